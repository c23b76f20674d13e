import type { LabelScore } from '../../state/selectors';
import { formatPercent } from '../../core/format';

/** One of an image's top labels: name, probability bar and the raw cosine behind it. */
export function ScoreRow({
  score,
  isHighlighted,
  isApplied = false,
}: {
  score: LabelScore;
  isHighlighted: boolean;
  /** Multi-label mode: the label applies to the image (its probability reached the label's threshold). */
  isApplied?: boolean;
}) {
  const percent = Math.max(0, Math.min(100, score.probability * 100));
  return (
    <li
      className={isHighlighted ? 'score score--highlighted' : 'score'}
      data-testid="top-label"
      data-label={score.label}
      data-probability={score.probability.toFixed(4)}
      data-applied={isApplied || undefined}
    >
      <div className="score__line">
        <span className="score__label" title={score.label} dir="auto">
          {isApplied && (
            <span className="score__applied" aria-label="applies">
              ✓{' '}
            </span>
          )}
          {score.label}
        </span>
        <span className="score__value">{formatPercent(score.probability)}</span>
      </div>
      <div className="score__bar" aria-hidden="true">
        <div className="score__fill" style={{ width: `${percent}%` }} />
      </div>
      <span
        className="score__cosine"
        title="Cosine similarity between the image and the label's text embedding"
      >
        cos {score.cosine.toFixed(3)}
      </span>
    </li>
  );
}
