import { useLensStore } from './store';

/** Puts the store back to its first state (zustand's testing guide: reset between tests). */
export function resetStore(): void {
  useLensStore.setState(useLensStore.getInitialState(), true);
}
