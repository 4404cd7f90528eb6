"use client";
/**
 * A button that asks before it acts: a modal `<dialog>` (focus moves into it, Escape
 * cancels, focus returns to the button) saying what will happen, with an optional
 * labelled reason field whose text goes with the command (and into the audit log).
 */
import { type ReactNode, useEffect, useId, useRef, useState } from "react";

export function ConfirmButton(p: {
  /** The button's text. */
  label: ReactNode;
  /** The dialog's heading: the question, e.g. "Roll back to version 3?". */
  title: string;
  /** What will happen, in words. */
  children: ReactNode;
  confirmLabel: string;
  onConfirm(reason: string): void;
  tone?: "primary" | "danger";
  disabled?: boolean;
  /** Why the button is disabled (shown as its title), e.g. the role it needs. */
  disabledTitle?: string | undefined;
  /** Label of an optional reason field; absent: no field. */
  reasonLabel?: string;
  className?: string;
}) {
  const [open, setOpen] = useState(false);
  const [reason, setReason] = useState("");
  const dialog = useRef<HTMLDialogElement>(null);
  const trigger = useRef<HTMLButtonElement>(null);
  const titleId = useId();
  const reasonId = useId();

  useEffect(() => {
    const d = dialog.current;
    if (!d) return;
    if (open && !d.open) d.showModal();
    if (!open && d.open) d.close();
  }, [open]);

  const close = () => {
    setOpen(false);
    trigger.current?.focus();
  };
  const confirm = () => {
    const r = reason.trim();
    setOpen(false);
    setReason("");
    trigger.current?.focus();
    p.onConfirm(r);
  };
  const toneClass = p.tone === "danger" ? "btn-danger" : p.tone === "primary" ? "btn-primary" : "";

  return (
    <>
      <button
        ref={trigger}
        type="button"
        className={`btn ${toneClass} ${p.className ?? ""}`}
        disabled={p.disabled}
        title={p.disabled ? p.disabledTitle : undefined}
        onClick={() => setOpen(true)}
      >
        {p.label}
      </button>
      <dialog
        ref={dialog}
        className="confirm-dialog"
        aria-labelledby={titleId}
        onClose={() => open && setOpen(false)}
      >
        <form
          method="dialog"
          onSubmit={(e) => {
            e.preventDefault();
            confirm();
          }}
        >
          <h2 id={titleId}>{p.title}</h2>
          <div className="confirm-body">{p.children}</div>
          {p.reasonLabel ? (
            <>
              <label htmlFor={reasonId}>{p.reasonLabel}</label>
              <input
                id={reasonId}
                className="wide"
                maxLength={1000}
                value={reason}
                onChange={(e) => setReason(e.target.value)}
              />
            </>
          ) : null}
          <div className="confirm-actions">
            <button type="button" className="btn" onClick={close}>
              Cancel
            </button>
            <button type="submit" className={`btn ${toneClass || "btn-primary"}`}>
              {p.confirmLabel}
            </button>
          </div>
        </form>
      </dialog>
    </>
  );
}
