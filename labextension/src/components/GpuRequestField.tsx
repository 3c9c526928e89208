/**
 * The environment form's GPU fieldset: none / a count / picked devices / all
 * (or a request the form cannot show otherwise), and GPU sharing. Used by
 * EnvironmentForm.tsx; a pure view of the form state.
 */
import { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';

import { IGPUInventory } from '../api';
import { GpuMode, IFieldError, IFormState } from '../formState';
import { ILoaded } from '../loaded';
import { DevicePicker } from './DevicePicker';
import { FieldError } from './Field';

/** The GPU choice radios ("Other" only for a request the form cannot show). */
function GpuModes(props: {
  mode: GpuMode;
  set: (patch: Partial<IFormState>) => void;
  trans: TranslationBundle;
}): JSX.Element {
  const { mode: current, set, trans } = props;
  const modes: [GpuMode, string][] = [
    ['none', trans.__('None')],
    ['count', trans.__('Count')],
    ['devices', trans.__('Pick')],
    ['all', trans.__('All')]
  ];
  return (
    <div className="jp-GPUKernels-radios">
      {modes.map(([mode, label]) => (
        <label key={mode}>
          <input
            type="radio"
            name="gpuMode"
            value={mode}
            checked={current === mode}
            onChange={() => set({ gpuMode: mode })}
          />
          {label}
        </label>
      ))}
      {current === 'other' && (
        <label>
          <input type="radio" name="gpuMode" value="other" checked readOnly />
          {trans.__('Other')}
        </label>
      )}
    </div>
  );
}

export function GpuRequestField(props: {
  state: IFormState;
  set: (patch: Partial<IFormState>) => void;
  gpus: ILoaded<IGPUInventory>;
  error: IFieldError | null;
  trans: TranslationBundle;
}): JSX.Element {
  const { state: s, set, gpus, error, trans } = props;
  return (
    <fieldset
      className={`jp-GPUKernels-field jp-GPUKernels-gpuField${error?.field === 'gpus' ? ' jp-mod-invalid' : ''}`}
    >
      <legend className="jp-GPUKernels-label">{trans.__('GPUs')}</legend>
      <GpuModes mode={s.gpuMode} set={set} trans={trans} />
      {s.gpuMode === 'count' && (
        <label className="jp-GPUKernels-inline">
          <input
            className="jp-mod-styled jp-GPUKernels-input jp-GPUKernels-narrow"
            name="gpuCount"
            value={s.gpuCount}
            aria-label={trans.__('Number of GPUs')}
            onChange={e => set({ gpuCount: e.target.value })}
          />
          <span className="jp-GPUKernels-dim">
            {trans.__('free GPUs, chosen when the kernel starts')}
          </span>
        </label>
      )}
      {s.gpuMode === 'devices' && (
        <DevicePicker
          gpus={gpus.value?.gpus ?? null}
          error={gpus.error}
          value={s.devices}
          onChange={devices => set({ devices })}
          trans={trans}
        />
      )}
      {s.gpuMode === 'other' && (
        <input
          className="jp-mod-styled jp-GPUKernels-input"
          name="gpuOther"
          value={s.gpuOther}
          aria-label={trans.__('GPU request')}
          onChange={e => set({ gpuOther: e.target.value })}
        />
      )}
      <label className="jp-GPUKernels-inline">
        <input
          type="checkbox"
          checked={s.gpu_sharing}
          onChange={e => set({ gpu_sharing: e.target.checked })}
        />
        {trans.__('Share GPUs with other sharing kernels')}
      </label>
      <FieldError field="gpus" error={error} />
    </fieldset>
  );
}
