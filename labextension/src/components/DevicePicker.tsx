/**
 * GPU chips of the environment form's host: free ones can be picked, held ones
 * say by whom. Used by GpuRequestField.tsx; a pure view.
 */
import { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';

import { IGPU } from '../api';
import { isFree } from '../format';

/** `value` with `index` added (sorted by number) or removed. */
export function toggleIndex(value: string[], index: string): string[] {
  return value.includes(index)
    ? value.filter(v => v !== index)
    : [...value, index].sort((a, b) => Number(a) - Number(b));
}

export function DevicePicker(props: {
  gpus: IGPU[] | null;
  error: string | null;
  value: string[];
  onChange: (value: string[]) => void;
  trans: TranslationBundle;
}): JSX.Element {
  const { gpus, value, onChange, trans } = props;
  if (!gpus) {
    return (
      <div className="jp-GPUKernels-message">
        {props.error ? props.error : trans.__('Loading GPUs…')}
      </div>
    );
  }
  if (!gpus.length) {
    return (
      <div className="jp-GPUKernels-message">
        {trans.__('This host has no GPUs.')}
      </div>
    );
  }
  return (
    <ul className="jp-GPUKernels-devicePicker" aria-label={trans.__('GPUs')}>
      {gpus.map(gpu => {
        const free = isFree(gpu);
        const held = gpu.holders
          .map(h => h.notebook.split('/').pop() || h.environment)
          .join(', ');
        return (
          <li
            key={gpu.index}
            className={`jp-GPUKernels-device ${free ? 'jp-mod-free' : 'jp-mod-busy'}`}
          >
            <label title={gpu.uuid}>
              <input
                type="checkbox"
                checked={value.includes(gpu.index)}
                aria-label={trans.__('GPU %1', gpu.index)}
                onChange={() => onChange(toggleIndex(value, gpu.index))}
              />
              <span className="jp-GPUKernels-gpuIndex">{gpu.index}</span>
              <span className="jp-GPUKernels-dim">
                {free ? trans.__('free') : trans.__('in use: %1', held)}
              </span>
            </label>
          </li>
        );
      })}
    </ul>
  );
}
