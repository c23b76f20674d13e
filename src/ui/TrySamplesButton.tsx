import { useState } from 'react';
import { loadSamples } from '../state/engineBridge';

interface TrySamplesButtonProps {
  className?: string;
  /** Only the header's button carries the e2e test id. */
  testId?: string;
}

/** Adds the bundled sample images and sets the labels to theirs. */
export function TrySamplesButton({ className = 'button', testId }: TrySamplesButtonProps) {
  const [isFetching, setIsFetching] = useState(false);

  const onClick = async () => {
    setIsFetching(true);
    try {
      await loadSamples();
    } finally {
      setIsFetching(false);
    }
  };

  return (
    <button
      type="button"
      className={className}
      data-testid={testId}
      aria-label="Try the sample images"
      disabled={isFetching}
      onClick={() => void onClick()}
    >
      {isFetching ? 'Fetching samples…' : 'Try the samples'}
    </button>
  );
}
