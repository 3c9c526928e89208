/**
 * The `IGPUKernels` token: what the plugin (index.ts) provides to other
 * JupyterLab extensions — the model (data, actions and change signals), the
 * typed REST API, the current notebook's kernel, and the environment form.
 * Only types and the token live here, so depending on it loads nothing else.
 */
import { Token } from '@lumino/coreutils';

import { GPUKernelsAPI, IEnvironment } from './api';
import { IEnvironmentDraft } from './formState';
import { GPUKernelsModel } from './model';
import { CurrentKernelTracker } from './notebook';

export interface IGPUKernels {
  /** Hosts, GPUs, images, environments, kernels and pulls, with a signal per kind of change. */
  readonly model: GPUKernelsModel;
  /** One typed method per endpoint of `<baseUrl>gpu-kernels/api/`. */
  readonly api: GPUKernelsAPI;
  /** The current notebook's environment and container (null without a notebook tracker). */
  readonly currentKernel: CurrentKernelTracker | null;
  /**
   * Open the create (or, with `editing`, edit) environment dialog; resolves
   * with the saved environment, or null when cancelled.
   */
  openEnvironmentForm(
    draft: IEnvironmentDraft,
    editing?: string
  ): Promise<IEnvironment | null>;
}

export const IGPUKernels = new Token<IGPUKernels>(
  'jupyter-gpu-kernels:IGPUKernels',
  'The GPU Kernels model and REST API: Docker hosts, GPUs, images, environments and kernel containers.'
);
