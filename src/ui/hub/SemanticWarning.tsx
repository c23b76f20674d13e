import type { ModelManifest } from '../../core/manifest';

interface SemanticWarningProps {
  manifest: Pick<ModelManifest, 'semanticCheck'>;
  /** One short line for the status bar instead of the sentence for a model's row. */
  compact?: boolean;
}

/**
 * The mark of a model built from hub weights the toolchain did not recognise whose answers on the build's simple
 * drawn pictures were mostly wrong (src/engine/hub/semanticCheck.ts): it still works, but its answers are not to be
 * trusted. Nothing is shown for a model that passed or was never checked. Hovering lists what it got wrong.
 */
export function SemanticWarning({ manifest, compact = false }: SemanticWarningProps) {
  const check = manifest.semanticCheck;
  if (!check || check.passed) return null;
  const score = `${check.correct} of ${check.total} right`;
  const misses = check.items
    .filter((item) => item.answered !== item.expected)
    .map((item) => `${item.image}: answered “${item.answered}”`)
    .join('\n');
  if (compact) {
    return (
      <span
        className="status-bar__item status-bar__warning"
        data-testid="status-semantic-warning"
        title={misses}
      >
        This model’s answers on simple test images look wrong ({score})
      </span>
    );
  }
  return (
    <p className="semantic-warning" role="note" data-testid="semantic-warning" title={misses}>
      Its answers on simple test images look wrong: {score}. The checkpoint may not be the official one or may
      be damaged.
    </p>
  );
}
