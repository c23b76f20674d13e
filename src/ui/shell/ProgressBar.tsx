/** A labelled progress bar with a line of text under it, read out politely as it changes. */
export function ProgressBar({ label, percent, text }: { label: string; percent: number; text: string }) {
  return (
    <>
      <div
        className="transfer__bar"
        role="progressbar"
        aria-label={label}
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={percent}
      >
        <div className="transfer__fill" style={{ width: `${percent}%` }} />
      </div>
      <p className="transfer__text" aria-live="polite">
        {text}
      </p>
    </>
  );
}

/** Whole percent of `loaded` in `total` (0 while the total is unknown). */
export function percentOf(loaded: number, total: number): number {
  return total > 0 ? Math.min(100, Math.floor((loaded / total) * 100)) : 0;
}
