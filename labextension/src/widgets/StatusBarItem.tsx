/**
 * Status bar item for the current notebook: `host · image · GPUs` of its
 * kernel container, or "local" when the kernel is not one of ours. Registered
 * by the plugin (index.ts); re-renders on CurrentKernelTracker.changed.
 */
import { GroupItem, TextItem } from '@jupyterlab/statusbar';
import { TranslationBundle } from '@jupyterlab/translation';
import { ReactWidget, UseSignal } from '@jupyterlab/ui-components';
import * as React from 'react';

import { describeGpuRequest, describeHeldGpus, shortImage } from '../format';
import { gpuIcon } from '../icon';
import { startingText } from '../kernelStatus';
import { CurrentKernelTracker, ICurrentKernel } from '../notebook';
import { loadTrans } from '../translation';

/** The status text and its tooltip for a notebook's kernel. */
export function kernelStatusText(
  current: ICurrentKernel | null,
  trans: TranslationBundle = loadTrans()
): {
  text: string;
  title: string;
  state: string;
} {
  if (!current) {
    return { text: '', title: '', state: 'none' };
  }
  const { container: row, environment: env, kernelName } = current;
  if (current.starting) {
    const s = current.starting;
    return {
      text: `${s.host} · ${startingText(s, trans)}`,
      title: trans.__(
        'Starting a kernel with image %1 on host %2',
        s.image,
        s.host
      ),
      state: 'starting'
    };
  }
  if (row) {
    const lines = [
      trans.__('Kernel container %1 on host %2', row.container, row.host),
      trans.__('image %1', row.image),
      row.gpus ? trans.__('GPU device(s) %1', row.gpus) : trans.__('no GPU'),
      row.environment ? trans.__('environment %1', row.environment) : '',
      trans.__('Click to show the GPU Kernels panel')
    ];
    return {
      text: `${row.host} · ${shortImage(row.image)} · ${describeHeldGpus(row.gpus, trans)}`,
      title: lines.filter(Boolean).join('\n'),
      state: 'container'
    };
  }
  if (env && current.kernelStatus === 'dead') {
    return {
      text: `${env.host} · ${shortImage(env.image)} · ${trans.__('stopped')}`,
      title: trans.__('The kernel of environment %1 is not running', env.name),
      state: 'stopped'
    };
  }
  if (env) {
    return {
      text: `${env.host} · ${shortImage(env.image)} · ${describeGpuRequest(env.gpus, trans)}`,
      title: trans.__(
        'Environment %1 (kernel %2); its container is not listed (yet)',
        env.name,
        env.kernel_name
      ),
      state: 'environment'
    };
  }
  if (!kernelName) {
    return {
      text: trans.__('no kernel'),
      title: trans.__('This notebook has no kernel'),
      state: 'none'
    };
  }
  return {
    text: trans.__('local'),
    title: trans.__(
      'Kernel %1 runs without a GPU container (not a jupyter-gpu-kernels environment)',
      kernelName
    ),
    state: 'local'
  };
}

export class KernelStatusItem extends ReactWidget {
  constructor(
    private _current: CurrentKernelTracker,
    private _onClick: () => void,
    private _trans: TranslationBundle = loadTrans()
  ) {
    super();
    this.addClass('jp-GPUKernels-status');
    this.addClass('jp-mod-highlighted');
  }

  protected render(): JSX.Element {
    return (
      <UseSignal signal={this._current.changed}>
        {() => {
          const { text, title, state } = kernelStatusText(
            this._current.current,
            this._trans
          );
          return (
            <div
              className="jp-GPUKernels-statusItem"
              data-state={state}
              title={title}
              onClick={this._onClick}
            >
              <GroupItem spacing={4}>
                <gpuIcon.react
                  tag="span"
                  className="jp-GPUKernels-statusIcon"
                />
                <TextItem source={text} />
              </GroupItem>
            </div>
          );
        }}
      </UseSignal>
    );
  }
}
