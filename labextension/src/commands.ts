/**
 * Command ids of the extension (all in the command palette's "GPU Kernels"
 * category). Registered by registerCommands.ts; run by the sidebar and by
 * other extensions.
 */
export namespace CommandIDs {
  /** Show the GPU Kernels panel. */
  export const openPanel = 'gpu-kernels:open-panel';
  /** Reload hosts, GPUs, images, environments and kernels. */
  export const refresh = 'gpu-kernels:refresh';
  /** Open the new-environment form (args: image, host, gpus). */
  export const newEnvironment = 'gpu-kernels:new-environment';
  /** New notebook in the file browser's folder with an environment's kernel (args: environment). */
  export const newNotebook = 'gpu-kernels:new-notebook';
  /** Switch the current notebook to an environment's kernel (args: environment). */
  export const useEnvironment = 'gpu-kernels:use-environment';
  /** Shut down the current notebook's kernel container. */
  export const shutdownCurrent = 'gpu-kernels:shutdown-current-kernel';
  /** Show a kernel container's recent log in the main area (args: kernelId, name). */
  export const showLog = 'gpu-kernels:show-log';
  /** Build an image from a Dockerfile (args: path, host). */
  export const buildImage = 'gpu-kernels:build-image';
  /** Save a running kernel's container as an image (args: kernelId). */
  export const commitKernel = 'gpu-kernels:commit-kernel';
  /** Export an environment: docker run, compose, Dockerfile, JSON (args: environment). */
  export const exportEnvironment = 'gpu-kernels:export-environment';
  /** Recreate the environment the current notebook's metadata records. */
  export const recreateEnvironment = 'gpu-kernels:recreate-environment';
}

/** The command palette category. */
export const PALETTE_CATEGORY = 'GPU Kernels';

/** The commands shown in the palette. */
export const PALETTE_COMMANDS = [
  CommandIDs.openPanel,
  CommandIDs.refresh,
  CommandIDs.newEnvironment,
  CommandIDs.shutdownCurrent,
  CommandIDs.recreateEnvironment
];
