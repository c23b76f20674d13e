import { useState, type FormEvent } from 'react';
import { setModelServer } from '../state/modelLibrary';
import { useLensStore } from '../state/store';

/** Where catalog models are downloaded from: `<server><model id>/manifest.json`. */
export function ModelServerSetting() {
  const saved = useLensStore((state) => state.modelBaseUrl);
  const [value, setValue] = useState(saved);

  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    void setModelServer(value);
  };

  return (
    <form className="models-section models-section__row" onSubmit={onSubmit}>
      <label className="models-server">
        <span>Model server</span>
        <input
          type="url"
          value={value}
          onChange={(event) => setValue(event.target.value)}
          spellCheck={false}
          placeholder="https://example.org/eva-lens-models/"
          inputMode="url"
        />
      </label>
      <button type="submit" className="button button--small" disabled={value.trim() === ''}>
        Save server
      </button>
    </form>
  );
}
