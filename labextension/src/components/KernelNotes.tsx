/**
 * What a running-kernels row says beyond its host and image: why its
 * container last died (or why its restart failed), when the idle culler will
 * shut it down, its GPU-minutes, a "Show
 * log" action; and the kernel starts in progress ("pulling image 45% …").
 * Used by the Running kernels section (Kernels.tsx).
 */
import { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';

import { IKernelRow, IStartingKernel } from '../api';
import { cullTime } from '../cullWarning';
import { deathReason, kernelLabel, startingText } from '../kernelStatus';

export function KernelNotes(props: {
  kernel: IKernelRow;
  onShowLog?: (kernel: IKernelRow) => void;
  trans: TranslationBundle;
}): JSX.Element {
  const { kernel, onShowLog, trans } = props;
  const minutes = kernel.gpu_minutes;
  const canLog = kernel.this_server && !!kernel.container && !!onShowLog;
  return (
    <>
      {kernel.last_death?.reason && (
        <div className="jp-GPUKernels-kernelDeath" role="status">
          {trans.__('Last death: %1', deathReason(kernel))}
          {kernel.last_death.at ? ` (${kernel.last_death.at})` : ''}
        </div>
      )}
      {kernel.cull_at && (
        <div className="jp-GPUKernels-kernelCull" role="status">
          {trans.__(
            'Idle: shut down at %1 unless a cell runs',
            cullTime(kernel.cull_at)
          )}
        </div>
      )}
      {kernel.error &&
        (kernel.state === 'dead' || kernel.state === 'unreachable') && (
          <div className="jp-GPUKernels-error" role="alert">
            {kernel.error}
          </div>
        )}
      {(typeof minutes === 'number' && kernel.gpus) || canLog ? (
        <div className="jp-GPUKernels-dim jp-GPUKernels-kernelExtra">
          {typeof minutes === 'number' && kernel.gpus && (
            <span className="jp-GPUKernels-gpuMinutes">
              {trans.__('%1 GPU-minutes', minutes.toFixed(1))}
            </span>
          )}
          {canLog && (
            <button
              className="jp-GPUKernels-link jp-GPUKernels-showLog"
              title={trans.__("Show the kernel container's recent log")}
              onClick={() => onShowLog?.(kernel)}
            >
              {trans.__('Show log')}
            </button>
          )}
        </div>
      ) : null}
    </>
  );
}

/** The kernel starts of this server in progress, above the running kernels. */
export function StartingKernels(props: {
  starting: IStartingKernel[];
  trans: TranslationBundle;
}): JSX.Element | null {
  const { starting, trans } = props;
  if (starting.length === 0) {
    return null;
  }
  return (
    <ul className="jp-GPUKernels-kernels jp-GPUKernels-starting">
      {starting.map(s => (
        <li
          key={s.kernel_id}
          className="jp-GPUKernels-kernel jp-mod-starting"
          data-kernel-id={s.kernel_id}
          title={trans.__('image %1 on host %2', s.image, s.host)}
        >
          <div className="jp-GPUKernels-kernelHeader">
            <span className="jp-GPUKernels-kernelName">{kernelLabel(s)}</span>
            <span className="jp-GPUKernels-badge jp-mod-state-starting">
              {trans.__('starting')}
            </span>
          </div>
          <div className="jp-GPUKernels-startingText" role="status">
            {startingText(s, trans)}
          </div>
        </li>
      ))}
    </ul>
  );
}
