import { useLensStore } from '../../state/store';
import { BackendSelect } from '../models/BackendSelect';
import { FilePickers } from '../images/FilePickers';
import { ModelsButton } from '../models/ModelsButton';
import { TrySamplesButton } from '../images/TrySamplesButton';

export function Header() {
  const modelName = useLensStore((state) => state.model?.manifest.name ?? null);
  const modelStatus = useLensStore((state) => state.modelStatus);

  return (
    <header className="header">
      <div className="brand">
        <img
          className="brand__logo"
          src={`${import.meta.env.BASE_URL}favicon.svg`}
          alt=""
          width={28}
          height={28}
        />
        <div>
          <h1 className="brand__name">EVA Lens</h1>
          <p className="brand__model" aria-label="Model">
            {modelName ?? (modelStatus === 'error' ? 'Model not loaded' : 'Loading model…')}
          </p>
        </div>
      </div>
      <div className="header__actions">
        <FilePickers variant="header" />
        <TrySamplesButton className="button button--accent" testId="try-samples" />
        <ModelsButton />
        <button
          type="button"
          className="button button--quiet"
          aria-haspopup="dialog"
          onClick={() => useLensStore.getState().setHelpOpen(true)}
        >
          Help
        </button>
        <BackendSelect />
      </div>
    </header>
  );
}
