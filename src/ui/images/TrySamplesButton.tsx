import { useState } from 'react';
import { addSampleSet, fetchSamples, hasOwnLabels } from '../../state/engineBridge';
import type { SampleSet } from '../../state/samples';
import { useLensStore } from '../../state/store';
import { ModalDialog } from '../shell/ModalDialog';

interface TrySamplesButtonProps {
  className?: string;
  /** Only the header's button carries the e2e test id. */
  testId?: string;
}

/**
 * Adds the bundled sample images with their labels. When the person has labels of their own, it asks first:
 * replace them with the samples' labels, or keep them and add only the images.
 */
export function TrySamplesButton({ className = 'button', testId }: TrySamplesButtonProps) {
  const [isFetching, setIsFetching] = useState(false);
  const [pending, setPending] = useState<SampleSet | null>(null);
  const labelCount = useLensStore((state) => state.labels.length);

  const onClick = async () => {
    setIsFetching(true);
    try {
      const samples = await fetchSamples();
      if (!samples) return;
      if (hasOwnLabels(samples)) setPending(samples);
      else addSampleSet(samples, { replaceLabels: true });
    } finally {
      setIsFetching(false);
    }
  };

  const answer = (replaceLabels: boolean) => {
    if (pending) addSampleSet(pending, { replaceLabels });
    setPending(null);
  };

  return (
    <>
      <button
        type="button"
        className={className}
        data-testid={testId}
        disabled={isFetching}
        onClick={() => void onClick()}
      >
        {isFetching ? 'Fetching samples…' : 'Try the samples'}
      </button>
      {pending && (
        <ModalDialog
          title="Replace your labels?"
          className="samples-question"
          testId="samples-question"
          onClose={() => setPending(null)}
        >
          <p>
            The samples come with their own {pending.labels.length} labels. Use them instead of your{' '}
            {labelCount === 1 ? 'label' : `${labelCount} labels`}, or keep yours and add only the{' '}
            {pending.files.length} images? (Undo brings your labels back.)
          </p>
          <div className="row-actions">
            <button type="button" className="button button--primary" onClick={() => answer(true)}>
              Use the samples’ labels
            </button>
            <button type="button" className="button" onClick={() => answer(false)}>
              Keep my labels
            </button>
          </div>
        </ModalDialog>
      )}
    </>
  );
}
