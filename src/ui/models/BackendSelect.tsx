import type { ChangeEvent } from 'react';
import { setBackendPreference } from '../../state/engineBridge';
import { useLensStore } from '../../state/store';
import type { BackendPreference } from '../../core/protocol';

const OPTIONS: { value: BackendPreference; label: string }[] = [
  { value: 'auto', label: 'Auto' },
  { value: 'webgpu', label: 'WebGPU' },
  { value: 'wasm', label: 'WASM' },
];

const hasWebGpu = typeof navigator !== 'undefined' && 'gpu' in navigator;

/** Backend override: Auto lets the engine choose (WebGPU first, WASM as fallback). */
export function BackendSelect() {
  const preference = useLensStore((state) => state.backendPreference);
  const isLoading = useLensStore((state) => state.modelStatus === 'loading');

  const onChange = (event: ChangeEvent<HTMLSelectElement>) => {
    void setBackendPreference(event.target.value as BackendPreference);
  };

  return (
    <label className="backend-select">
      <span className="backend-select__caption">Backend</span>
      <select
        className="select"
        data-testid="backend-select"
        aria-label="Inference backend"
        value={preference}
        onChange={onChange}
        disabled={isLoading}
      >
        {OPTIONS.map((option) => (
          <option key={option.value} value={option.value} disabled={option.value === 'webgpu' && !hasWebGpu}>
            {option.value === 'webgpu' && !hasWebGpu ? 'WebGPU (not available)' : option.label}
          </option>
        ))}
      </select>
    </label>
  );
}
