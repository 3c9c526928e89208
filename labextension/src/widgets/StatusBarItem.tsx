/**
 * Status bar item for the current notebook: `host · image · GPUs` of its
 * kernel container, or "local" when the kernel is not one of ours.
 */
import { GroupItem, TextItem } from '@jupyterlab/statusbar';
import { ReactWidget, UseSignal } from '@jupyterlab/ui-components';
import * as React from 'react';

import { describeGpuRequest, describeHeldGpus, shortImage } from './format';
import { gpuIcon } from './icon';
import { CurrentKernelTracker, ICurrentKernel } from './notebook';

/** The status text and its tooltip for a notebook's kernel. */
export function kernelStatusText(current: ICurrentKernel | null): {
  text: string;
  title: string;
  state: string;
} {
  if (!current) {
    return { text: '', title: '', state: 'none' };
  }
  const { container: row, environment: env, kernelName } = current;
  if (row) {
    return {
      text: `${row.host} · ${shortImage(row.image)} · ${describeHeldGpus(row.gpus)}`,
      title:
        `Kernel container ${row.container} on host ${row.host}\n` +
        `image ${row.image}\n` +
        (row.gpus ? `GPU device(s) ${row.gpus}` : 'no GPU') +
        (row.environment ? `\nenvironment ${row.environment}` : '') +
        '\nClick to show the GPU Kernels panel',
      state: 'container'
    };
  }
  if (env && current.kernelStatus === 'dead') {
    return {
      text: `${env.host} · ${shortImage(env.image)} · stopped`,
      title: `The kernel of environment ${env.name} is not running`,
      state: 'stopped'
    };
  }
  if (env) {
    return {
      text: `${env.host} · ${shortImage(env.image)} · ${describeGpuRequest(env.gpus)}`,
      title: `Environment ${env.name} (kernel ${env.kernel_name}); its container is not listed (yet)`,
      state: 'environment'
    };
  }
  if (!kernelName) {
    return {
      text: 'no kernel',
      title: 'This notebook has no kernel',
      state: 'none'
    };
  }
  return {
    text: 'local',
    title: `Kernel ${kernelName} runs without a GPU container (not a jupyter-gpu-kernels environment)`,
    state: 'local'
  };
}

export class KernelStatusItem extends ReactWidget {
  constructor(
    private _current: CurrentKernelTracker,
    private _onClick: () => void
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
            this._current.current
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
