/**
 * The kernel-status parts of the commands: `gpu-kernels:show-log` (a kernel
 * container's recent log in the main area) and the notification shown when a
 * kernel of this server died unasked (`model.kernelDied`), and the idle-cull
 * warnings (cullWarning.ts). Registered by
 * `addCommands` (registerCommands.ts).
 */
import { JupyterFrontEnd } from '@jupyterlab/application';
import { MainAreaWidget, Notification } from '@jupyterlab/apputils';
import { TranslationBundle } from '@jupyterlab/translation';
import { ReactWidget } from '@jupyterlab/ui-components';

import { CommandIDs } from './commands';
import { addCullNotifications } from './cullWarning';
import { deathMessage, kernelLabel } from './kernelStatus';
import { GPUKernelsModel } from './model';
import { createKernelLogWidget } from './widgets/KernelLog';

export function addKernelStatusCommands(context: {
  app: JupyterFrontEnd;
  model: GPUKernelsModel;
  trans: TranslationBundle;
}): void {
  const { app, model, trans } = context;
  const open = new Map<string, MainAreaWidget<ReactWidget>>();
  app.commands.addCommand(CommandIDs.showLog, {
    label: args =>
      args.name
        ? trans.__('Show Kernel Log of %1', String(args.name))
        : trans.__('Show Kernel Container Log'),
    caption: trans.__(
      "The recent stdout and stderr of a kernel's container (args: kernelId)"
    ),
    isEnabled: args => !!args.kernelId,
    execute: args => {
      const kernelId = String(args.kernelId ?? '');
      const existing = open.get(kernelId);
      if (existing && !existing.isDisposed) {
        app.shell.activateById(existing.id);
        return;
      }
      const row = model.kernel(kernelId);
      const name = String(args.name ?? (row ? kernelLabel(row) : kernelId));
      const widget = createKernelLogWidget(model.api, kernelId, name, trans);
      open.set(kernelId, widget);
      widget.disposed.connect(() => open.delete(kernelId));
      app.shell.add(widget, 'main', { mode: 'split-right' });
      app.shell.activateById(widget.id);
    }
  });
  addCullNotifications(model, trans);
  model.kernelDied.connect((_, row) => {
    Notification.warning(deathMessage(row, trans), {
      autoClose: false,
      actions: row.container
        ? [
            {
              label: trans.__('Show log'),
              callback: () =>
                void app.commands.execute(CommandIDs.showLog, {
                  kernelId: row.kernel_id
                })
            }
          ]
        : []
    });
  });
}
