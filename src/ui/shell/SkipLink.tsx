import { useLensStore } from '../../state/store';

/**
 * The first stop of the Tab key: straight to the images (or to the results area while there are none), past the
 * header and a label list that may hold a thousand labels. Focus is moved by hand: a bare #hash link scrolls, but
 * where the next Tab starts from differs between browsers.
 */
export function SkipLink() {
  const hasImages = useLensStore((state) => state.imageIds.length > 0);
  const target = hasImages ? 'images' : 'results';
  return (
    <a
      className="skip-link"
      href={`#${target}`}
      onClick={(event) => {
        const element = document.getElementById(target);
        if (!element) return;
        event.preventDefault();
        element.focus();
      }}
    >
      {hasImages ? 'Skip to the images' : 'Skip to the results'}
    </a>
  );
}
