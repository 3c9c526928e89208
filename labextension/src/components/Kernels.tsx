/**
 * Running kernel containers on every host, with shut down.
 */
import { stopIcon, ToolbarButtonComponent } from '@jupyterlab/ui-components';
import * as React from 'react';

import { errorMessage, IKernelRow } from './api';
import { basename, describeHeldGpus, shortImage, since } from './format';
import { GPUKernelsModel } from './model';

function KernelItem(props: {
  kernel: IKernelRow;
  onOpen: (path: string) => void;
  onShutdown: () => Promise<void>;
}): JSX.Element {
  const { kernel, onOpen } = props;
  const [busy, setBusy] = React.useState(false);
  const [error, setError] = React.useState<string | null>(null);
  const name =
    basename(kernel.notebook) ||
    kernel.environment ||
    kernel.kernel_id.slice(0, 8);
  const canOpen =
    kernel.this_server && !!kernel.notebook && !kernel.notebook.startsWith('/');
  const state = kernel.execution_state || kernel.state;
  const shutdown = async () => {
    setBusy(true);
    setError(null);
    try {
      await props.onShutdown();
    } catch (reason) {
      setError(errorMessage(reason));
      setBusy(false);
    }
  };
  const title = [
    `kernel ${kernel.kernel_id}`,
    `container ${kernel.container} (${kernel.state})`,
    kernel.environment && `environment ${kernel.environment}`,
    `image ${kernel.image}`,
    kernel.started && `started ${kernel.started}`,
    kernel.server && `server ${kernel.server}`
  ]
    .filter(Boolean)
    .join('\n');
  return (
    <li
      className={`jp-GPUKernels-kernel${busy ? ' jp-mod-busy' : ''}`}
      data-kernel-id={kernel.kernel_id}
      title={title}
    >
      <div className="jp-GPUKernels-kernelHeader">
        {canOpen ? (
          <button
            className="jp-GPUKernels-link jp-GPUKernels-kernelName"
            onClick={() => onOpen(kernel.notebook)}
          >
            {name}
          </button>
        ) : (
          <span className="jp-GPUKernels-kernelName">{name}</span>
        )}
        <span className={`jp-GPUKernels-badge jp-mod-state-${state}`}>
          {busy ? 'stopping' : state}
        </span>
        <ToolbarButtonComponent
          className="jp-GPUKernels-shutdown"
          icon={stopIcon}
          tooltip={
            kernel.this_server
              ? `Shut down kernel ${kernel.kernel_id.slice(0, 8)}`
              : 'Started by another Jupyter server'
          }
          enabled={kernel.this_server && !busy}
          onClick={() => void shutdown()}
        />
      </div>
      <div className="jp-GPUKernels-dim">
        {[
          kernel.host,
          shortImage(kernel.image),
          describeHeldGpus(kernel.gpus),
          since(kernel.started)
        ]
          .filter(Boolean)
          .join(' · ')}
      </div>
      {error && (
        <div className="jp-GPUKernels-error" role="alert">
          {error}
        </div>
      )}
    </li>
  );
}

export function KernelsView(props: {
  model: GPUKernelsModel;
  onOpen: (path: string) => void;
}): JSX.Element {
  const { model, onOpen } = props;
  const { value: kernels, error } = model.kernels;
  return (
    <div className="jp-GPUKernels-kernelsView">
      {error && (
        <div className="jp-GPUKernels-error" role="alert">
          {error}
        </div>
      )}
      {kernels && kernels.length === 0 && (
        <div className="jp-GPUKernels-message">
          No kernel container is running.
        </div>
      )}
      <ul className="jp-GPUKernels-kernels">
        {(kernels ?? []).map(k => (
          <KernelItem
            key={k.kernel_id}
            kernel={k}
            onOpen={onOpen}
            onShutdown={() => model.shutdownKernel(k.kernel_id)}
          />
        ))}
      </ul>
    </div>
  );
}
