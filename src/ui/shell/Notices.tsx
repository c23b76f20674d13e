import { useEffect } from 'react';
import type { Notice } from '../../state/noticesSlice';
import { useLensStore } from '../../state/store';

const NOTICE_MS = 6000;

function NoticeItem({ notice }: { notice: Notice }) {
  const dismissNotice = useLensStore((state) => state.dismissNotice);
  useEffect(() => {
    const timer = setTimeout(() => dismissNotice(notice.id), NOTICE_MS);
    return () => clearTimeout(timer);
  }, [notice.id, dismissNotice]);

  return (
    <div className={`notice notice--${notice.tone}`} role={notice.tone === 'error' ? 'alert' : 'status'}>
      <span>{notice.text}</span>
      <button
        type="button"
        className="icon-button"
        aria-label="Dismiss message"
        onClick={() => dismissNotice(notice.id)}
      >
        ×
      </button>
    </div>
  );
}

/** Short messages (skipped files, failed sample download) that fade after a few seconds. */
export function Notices() {
  const notices = useLensStore((state) => state.notices);
  return (
    <div className="notices" aria-live="polite">
      {notices.map((notice) => (
        <NoticeItem key={notice.id} notice={notice} />
      ))}
    </div>
  );
}
