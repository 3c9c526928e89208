/**
 * The `gpu-kernels:open-kernel-terminal` command (args: kernelId; default:
 * the current notebook's kernel): opens a widgets/KernelTerminal.ts in the
 * main area, or activates the one already open for that kernel. Registered by
 * registerCommands.ts; run by the running-kernels list (components/Kernels.tsx),
 * the palette and the notebook's Kernel menu.
 */
import { JupyterFrontEnd } from '@jupyterlab/application';
import { INotebookTracker } from '@jupyterlab/notebook';
import { TranslationBundle } from '@jupyterlab/translation';
import { terminalIcon } from '@jupyterlab/ui-components';

import { KernelTerminal } from './widgets/KernelTerminal';

export const OPEN_KERNEL_TERMINAL = 'gpu-kernels:open-kernel-terminal';

export function addTerminalCommand(context: {
  app: JupyterFrontEnd;
  tracker: INotebookTracker | null;
  trans: TranslationBundle;
}): void {
  const { app, tracker, trans } = context;
  const open = new Map<string, KernelTerminal>();
  const currentKernel = (): string =>
    tracker?.currentWidget?.sessionContext.session?.kernel?.id ?? '';
  app.commands.addCommand(OPEN_KERNEL_TERMINAL, {
    label: args =>
      args.kernelId
        ? trans.__('Terminal in Container')
        : trans.__('Terminal in Kernel Container'),
    caption: trans.__(
      "Open a shell in the kernel's container, as the kernel's user in its working directory"
    ),
    icon: terminalIcon,
    isEnabled: args => !!(args.kernelId || currentKernel()),
    execute: args => {
      const kernelId = String(args.kernelId || currentKernel());
      if (!kernelId) {
        return;
      }
      let widget = open.get(kernelId);
      if (!widget || widget.isDisposed) {
        const label = String(args.label || kernelId.slice(0, 8));
        widget = new KernelTerminal({
          kernelId,
          label,
          trans,
          settings: app.serviceManager.serverSettings
        });
        open.set(kernelId, widget);
        widget.disposed.connect(() => open.delete(kernelId));
        app.shell.add(widget, 'main');
      }
      app.shell.activateById(widget.id);
      return widget;
    }
  });
}
