import { switchToFullTemplates } from '../../state/engineBridge';
import { useLensStore } from '../../state/store';

/**
 * After a preset's first ranking from its smaller template set (ImageNet-1k: 7 of 80), offers the full ensemble;
 * the ranking on screen stays while the extra prompts embed in the worker.
 */
export function FullTemplatesOffer() {
  const offer = useLensStore((state) => state.fullTemplateOffer);
  const inUse = useLensStore((state) => state.templates.length);
  if (!offer || inUse >= offer.templates.length) return null;
  return (
    <p className="full-templates-offer muted" role="note">
      Ranked with {inUse} of the preset&apos;s {offer.templates.length} prompt templates, for speed.{' '}
      <button
        type="button"
        className="button button--quiet button--small"
        onClick={() => switchToFullTemplates()}
      >
        Use all {offer.templates.length} templates
      </button>
    </p>
  );
}
