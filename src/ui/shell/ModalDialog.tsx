import { useEffect, useId, useRef, type ReactNode } from 'react';

/**
 * A modal <dialog>: opened with showModal() (the browser traps focus and makes the page behind inert), closed by
 * Escape or the × button, both of which call `onClose` so the state that opened it stays the one truth.
 */
export function ModalDialog({
  title,
  className,
  onClose,
  children,
  testId,
}: {
  title: ReactNode;
  className: string;
  onClose(): void;
  children: ReactNode;
  testId?: string;
}) {
  const dialog = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  useEffect(() => {
    const element = dialog.current;
    // The dialog leaves the DOM when its state closes it, before the browser could put focus back itself.
    const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    if (element && !element.open) element.showModal?.();
    return () => {
      element?.close?.();
      if (opener?.isConnected) opener.focus();
    };
  }, []);
  return (
    <dialog
      ref={dialog}
      className={`modal ${className}`}
      aria-labelledby={titleId}
      data-testid={testId}
      onCancel={(event) => {
        event.preventDefault();
        onClose();
      }}
    >
      <div className="modal__head">
        <h2 id={titleId} className="modal__title">
          {title}
        </h2>
        <button type="button" className="icon-button" aria-label="Close" onClick={onClose}>
          ×
        </button>
      </div>
      {children}
    </dialog>
  );
}
