import { useState } from 'react';
import { describeError } from '../../core/errors';
import { forgetEverything } from '../../state/forgetEverything';
import { useLensStore } from '../../state/store';

/**
 * The privacy control: one click asks, the second deletes every model, result, label and setting kept on this
 * device, then the page starts afresh.
 */
export function ForgetEverything({ reload = () => location.reload() }: { reload?: () => void }) {
  const [stage, setStage] = useState<'idle' | 'asking' | 'working'>('idle');

  const confirm = async () => {
    setStage('working');
    try {
      await forgetEverything();
      reload();
    } catch (error) {
      setStage('idle');
      useLensStore
        .getState()
        .pushNotice(
          `EVA Lens could not forget everything: ${describeError(error)} Nothing else was changed.`,
          'error',
        );
    }
  };

  return (
    <section className="forget-everything models-section__row" aria-label="Forget everything">
      {stage === 'idle' ? (
        <>
          <span className="muted">Everything stays on this device. You can remove it all at once.</span>
          <button
            type="button"
            className="button button--small button--quiet"
            onClick={() => setStage('asking')}
          >
            Forget everything…
          </button>
        </>
      ) : (
        <>
          <span role="alert">
            Delete downloaded models, remembered results and labels, and your settings from this browser?
          </span>
          <button
            type="button"
            className="button button--small button--danger"
            disabled={stage === 'working'}
            onClick={() => void confirm()}
          >
            {stage === 'working' ? 'Forgetting…' : 'Forget everything'}
          </button>
          <button
            type="button"
            className="button button--small button--quiet"
            disabled={stage === 'working'}
            onClick={() => setStage('idle')}
          >
            Keep
          </button>
        </>
      )}
    </section>
  );
}
