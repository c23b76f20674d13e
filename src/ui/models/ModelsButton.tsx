import { useState } from 'react';
import { ModelsDialog } from './ModelsDialog';

/** Opens the model picker. */
export function ModelsButton() {
  const [isOpen, setIsOpen] = useState(false);
  return (
    <>
      <button type="button" className="button" onClick={() => setIsOpen(true)}>
        Models
      </button>
      {isOpen && <ModelsDialog onClose={() => setIsOpen(false)} />}
    </>
  );
}
