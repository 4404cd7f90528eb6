// The template renderer: facts fill slots, missing facts read naturally, and only the
// allow-listed slots exist — an operator-edited template naming anything else (an
// inherited property, a typo, a field we never meant to expose) is refused at upsert
// and, should one reach the renderer anyway, throws instead of sending a broken email.
import { describe, expect, it } from "vitest";
import {
  DEFAULT_PLAYBOOK,
  render,
  TEMPLATE_SLOTS,
  TemplateError,
  templateProblem,
} from "./playbook.ts";

describe("render", () => {
  it("fills slots from the facts and a neutral phrase for a missing or blank one", () => {
    expect(render("Hi {{firstName}} at {{company}}", { firstName: "Ada", company: " " })).toBe(
      "Hi Ada at your team",
    );
    expect(render("{{painPoint}}!", {})).toBe("manual follow-up!");
  });

  it("throws on a slot outside the allow-list, inherited names included, naming it", () => {
    for (const slot of ["unknownSlot", "toString", "constructor", "__proto__", "hasOwnProperty"]) {
      expect(() => render(`Hi {{firstName}} {{${slot}}}`, { firstName: "Ada" })).toThrow(
        TemplateError,
      );
      expect(() => render(`{{${slot}}}`, {})).toThrow(`unknown slot {{${slot}}}`);
    }
    // Facts that carry the name do not make it a slot.
    const facts = JSON.parse('{"toString": "shadowed", "email": "ada@acme.io"}');
    expect(() => render("{{toString}}", facts)).toThrow(TemplateError);
    expect(() => render("{{email}}", facts)).toThrow(TemplateError);
  });

  it("throws on a malformed slot rather than sending its braces", () => {
    expect(() => render("Hi {{ firstName }}", { firstName: "Ada" })).toThrow(/malformed slot/);
    expect(() => render("Hi {{firstName}", { firstName: "Ada" })).toThrow(/malformed slot/);
  });

  it("renders every default variant without a slot left or an 'undefined'", () => {
    for (const v of DEFAULT_PLAYBOOK) {
      expect(render(v.subjectTemplate + v.bodyTemplate, {})).not.toMatch(/\{\{|undefined/);
      expect(templateProblem(v.subjectTemplate, 500)).toBeUndefined();
      expect(templateProblem(v.bodyTemplate, 20_000)).toBeUndefined();
    }
  });
});

describe("templateProblem (checked at playbook upsert)", () => {
  it("names an unknown slot and lists the allowed ones", () => {
    expect(templateProblem("Hi {{firstName}} {{apiKey}}", 500)).toBe(
      `unknown slot {{apiKey}} (allowed: ${TEMPLATE_SLOTS.join(", ")})`,
    );
  });

  it("refuses a template that is too long for any lead, even with no facts filled in", () => {
    expect(templateProblem(`${"x".repeat(495)}{{painPoint}}`, 500)).toMatch(
      /renders longer than 500 characters \(511\)/,
    );
    expect(templateProblem(`${"x".repeat(480)}{{company}}`, 500)).toBeUndefined();
  });

  it("checks a hostile template in linear time", () => {
    const started = performance.now();
    templateProblem(`${"{{".repeat(50_000)}${"}".repeat(50_000)}`, 20_000);
    templateProblem(`{{${"a".repeat(100_000)}`, 20_000);
    expect(performance.now() - started).toBeLessThan(200);
  });
});
