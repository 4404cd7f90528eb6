import Link from "next/link";

export default function NotFound() {
  return (
    <div className="state state-empty">
      <h1>Not found</h1>
      <p>
        Nothing lives at this address. <Link href="/">Back to the overview</Link>.
      </p>
    </div>
  );
}
