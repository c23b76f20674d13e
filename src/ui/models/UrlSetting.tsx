import { useState, type FormEvent } from 'react';

interface UrlSettingProps {
  label: string;
  saved: string;
  placeholder: string;
  buttonText: string;
  /** Saves the address; false keeps the field as typed (the action said why). */
  onSave(value: string): boolean | Promise<boolean>;
}

/** A web address the person can change (model server, model hub), saved with a button. */
export function UrlSetting({ label, saved, placeholder, buttonText, onSave }: UrlSettingProps) {
  const [value, setValue] = useState(saved);
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    void onSave(value);
  };
  return (
    <form className="models-section models-section__row" onSubmit={onSubmit}>
      <label className="models-server">
        <span>{label}</span>
        <input
          type="url"
          value={value}
          onChange={(event) => setValue(event.target.value)}
          spellCheck={false}
          placeholder={placeholder}
          inputMode="url"
        />
      </label>
      <button type="submit" className="button button--small" disabled={value.trim() === ''}>
        {buttonText}
      </button>
    </form>
  );
}
