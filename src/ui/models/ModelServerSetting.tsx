import { setModelServer } from '../../state/modelTransfers';
import { useLensStore } from '../../state/store';
import { UrlSetting } from './UrlSetting';

/** Where catalog models are downloaded from: `<server><model id>/manifest.json`. */
export function ModelServerSetting() {
  const saved = useLensStore((state) => state.modelBaseUrl);
  return (
    <UrlSetting
      label="Model server"
      saved={saved}
      placeholder="https://example.org/eva-lens-models/"
      buttonText="Save server"
      onSave={setModelServer}
    />
  );
}
