import { useEffect, useRef, useState, type DragEvent, type ReactNode } from 'react';
import { addFiles } from '../../state/engineBridge';
import { collectFiles, hasFiles } from './collectFiles';

/** True when a paste should go to a text field rather than become images. */
function isTextPaste(event: ClipboardEvent): boolean {
  return (event.clipboardData?.files.length ?? 0) === 0;
}

/**
 * The whole page accepts dropped files and folders, and pasted images. Counting enter/leave events keeps the
 * overlay from flickering as the pointer crosses child elements.
 */
export function DropZone({ children }: { children: ReactNode }) {
  const [isDragging, setIsDragging] = useState(false);
  const depth = useRef(0);

  useEffect(() => {
    const onPaste = (event: ClipboardEvent) => {
      if (!event.clipboardData || isTextPaste(event)) return;
      event.preventDefault();
      void collectFiles(event.clipboardData).then((files) => addFiles(files));
    };
    document.addEventListener('paste', onPaste);
    return () => document.removeEventListener('paste', onPaste);
  }, []);

  const onDragEnter = (event: DragEvent) => {
    if (!hasFiles(event.dataTransfer)) return;
    event.preventDefault();
    depth.current += 1;
    setIsDragging(true);
  };
  const onDragOver = (event: DragEvent) => {
    if (!hasFiles(event.dataTransfer)) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = 'copy';
  };
  const onDragLeave = () => {
    depth.current = Math.max(0, depth.current - 1);
    if (depth.current === 0) setIsDragging(false);
  };
  const onDrop = (event: DragEvent) => {
    if (!hasFiles(event.dataTransfer)) return;
    event.preventDefault();
    depth.current = 0;
    setIsDragging(false);
    void collectFiles(event.dataTransfer).then((files) => addFiles(files));
  };

  return (
    <div
      className="drop-zone"
      data-testid="drop-zone"
      data-dragging={isDragging || undefined}
      onDragEnter={onDragEnter}
      onDragOver={onDragOver}
      onDragLeave={onDragLeave}
      onDrop={onDrop}
    >
      {children}
      {isDragging && (
        <div className="drop-overlay" aria-hidden="true">
          <div className="drop-overlay__card">
            <p className="drop-overlay__title">Drop images or folders</p>
            <p className="drop-overlay__hint">They stay on this device: everything runs in your browser.</p>
          </div>
        </div>
      )}
    </div>
  );
}
