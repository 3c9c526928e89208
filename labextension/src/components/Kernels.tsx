/**
 * The Running kernels section: kernel containers on every host, with shut
 * down. A view of `model.kernels`; shutting down calls `model.shutdownKernel`.
 */
import { TranslationBundle } from '@jupyterlab/translation';
import { stopIcon, ToolbarButtonComponent } from '@jupyterlab/ui-components';
import * as React from 'react';

import { errorMessage, IKernelRow } from '../api';
import { basename, describeHeldGpus, shortImage, since } from '../format';
import { GPUKernelsModel } from '../model';
import { KernelNotes, StartingKernels } from './KernelNotes';

/** The tooltip of a kernel: its ids, container, environment, image, server. */
function kernelTitle(kernel: IKernelRow, trans: TranslationBundle): string {
  return [
    trans.__('kernel %1', kernel.kernel_id),
    trans.__('container %1 (%2)', kernel.container, kernel.state),
    kernel.environment && trans.__('environment %1', kernel.environment),
    trans.__('image %1', kernel.image),
    kernel.started && trans.__('started %1', kernel.started),
    kernel.server && trans.__('server %1', kernel.server)
  ]
    .filter(Boolean)
    .join('\n');
}

function KernelItem(props: {
  kernel: IKernelRow;
  onOpen: (path: string) => void;
  onShutdown: () => Promise<void>;
  onShowLog?: (kernel: IKernelRow) => void;
  onCommit?: (kernel: IKernelRow) => void;
  onTerminal?: (kernel: IKernelRow) => void;
  trans: TranslationBundle;
}): JSX.Element {
  const { kernel, onOpen, trans } = props;
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
      setError(errorMessage(reason, trans));
      setBusy(false);
    }
  };
  const title = kernelTitle(kernel, trans);
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
          {busy ? trans.__('stopping') : state}
        </span>
        <ToolbarButtonComponent
          className="jp-GPUKernels-shutdown"
          icon={stopIcon}
          tooltip={
            kernel.this_server
              ? trans.__('Shut down kernel %1', kernel.kernel_id.slice(0, 8))
              : trans.__('Started by another Jupyter server')
          }
          enabled={kernel.this_server && !busy}
          onClick={() => void shutdown()}
        />
      </div>
      <div className="jp-GPUKernels-dim">
        {[
          kernel.host,
          shortImage(kernel.image),
          describeHeldGpus(kernel.gpus, trans),
          since(kernel.started, trans)
        ]
          .filter(Boolean)
          .join(' · ')}
      </div>
      <KernelNotes kernel={kernel} onShowLog={props.onShowLog} trans={trans} />
      {props.onTerminal && kernel.this_server && kernel.state === 'running' && (
        <button
          className="jp-GPUKernels-link jp-GPUKernels-terminalAction"
          title={trans.__('Open a shell in this kernel’s container')}
          onClick={() => props.onTerminal?.(kernel)}
        >
          {trans.__('Terminal in container')}
        </button>
      )}
      {props.onCommit && kernel.this_server && kernel.state === 'running' && (
        <button
          className="jp-GPUKernels-link jp-GPUKernels-commit"
          title={trans.__('Save this kernel’s container as an image')}
          onClick={() => props.onCommit?.(kernel)}
        >
          {trans.__('Save as image…')}
        </button>
      )}
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
  onShowLog?: (kernel: IKernelRow) => void;
  onCommit?: (kernel: IKernelRow) => void;
  onTerminal?: (kernel: IKernelRow) => void;
  trans: TranslationBundle;
}): JSX.Element {
  const { model, onOpen, trans } = props;
  const { value: kernels, error } = model.kernels;
  const starting = model.status.starting.value ?? [];
  return (
    <div className="jp-GPUKernels-kernelsView">
      {error && (
        <div className="jp-GPUKernels-error" role="alert">
          {error}
        </div>
      )}
      <StartingKernels starting={starting} trans={trans} />
      {kernels && kernels.length === 0 && starting.length === 0 && (
        <div className="jp-GPUKernels-message">
          {trans.__('No kernel container is running.')}
        </div>
      )}
      <ul className="jp-GPUKernels-kernels">
        {(kernels ?? []).map(k => (
          <KernelItem
            key={k.kernel_id}
            kernel={k}
            onOpen={onOpen}
            onShutdown={() => model.shutdownKernel(k.kernel_id)}
            onShowLog={props.onShowLog}
            onCommit={props.onCommit}
            onTerminal={props.onTerminal}
            trans={trans}
          />
        ))}
      </ul>
    </div>
  );
}
