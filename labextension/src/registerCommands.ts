/**
 * `addCommands`, which the plugin (index.ts) calls once to register the
 * extension's commands (ids in commands.ts). They act through the model, the
 * sidebar, and JupyterLab's docmanager commands.
 */
import { JupyterFrontEnd } from '@jupyterlab/application';
import { Notification } from '@jupyterlab/apputils';
import { IDefaultFileBrowser } from '@jupyterlab/filebrowser';
import { INotebookTracker } from '@jupyterlab/notebook';
import { Contents } from '@jupyterlab/services';
import { TranslationBundle } from '@jupyterlab/translation';
import { addIcon, refreshIcon, stopIcon } from '@jupyterlab/ui-components';

import { errorMessage, IEnvironment } from './api';
import { addBuildCommands } from './buildCommands';
import { CommandIDs } from './commands';
import { gpuIcon } from './icon';
import { addKernelStatusCommands } from './kernelCommands';
import { GPUKernelsModel } from './model';
import { CurrentKernelTracker } from './notebook';
import { notifyError } from './notify';
import { addTerminalCommand } from './terminalCommands';
import { GPUKernelsSidebar } from './widgets/Sidebar';

export interface ICommandContext {
  app: JupyterFrontEnd;
  model: GPUKernelsModel;
  sidebar: GPUKernelsSidebar;
  tracker: INotebookTracker | null;
  current: CurrentKernelTracker | null;
  fileBrowser: IDefaultFileBrowser | null;
  trans: TranslationBundle;
}

/** Register all commands of the extension. */
export function addCommands(context: ICommandContext): void {
  addPanelCommands(context);
  addEnvironmentCommands(context);
  addShutdownCommand(context);
  addKernelStatusCommands(context);
  addBuildCommands(context);
  addTerminalCommand(context);
}

/** The environment named in a command's args, loading the list if needed. */
async function environmentOf(
  model: GPUKernelsModel,
  args: { environment?: unknown },
  trans: TranslationBundle
): Promise<IEnvironment> {
  const name = String(args.environment ?? '');
  if (!model.environments.value) {
    await model.refreshEnvironments();
  }
  const env = model.environments.value?.find(e => e.name === name);
  if (!env) {
    throw new Error(trans.__('No environment named “%1”.', name));
  }
  return env;
}

function addPanelCommands(context: ICommandContext): void {
  const { app, model, sidebar, trans } = context;
  app.commands.addCommand(CommandIDs.openPanel, {
    label: trans.__('Show GPU Kernels Panel'),
    caption: trans.__('Show the GPU Kernels sidebar'),
    icon: gpuIcon,
    execute: () => app.shell.activateById(sidebar.id)
  });
  app.commands.addCommand(CommandIDs.refresh, {
    label: trans.__('Refresh GPU Kernels'),
    caption: trans.__(
      'Reload Docker hosts, GPUs, images, environments and kernel containers'
    ),
    icon: refreshIcon,
    execute: () => model.refreshAll()
  });
  app.commands.addCommand(CommandIDs.newEnvironment, {
    label: trans.__('New GPU Kernel Environment…'),
    caption: trans.__(
      'Create an environment: an image, a host, GPUs and limits, offered as a kernel'
    ),
    icon: addIcon,
    execute: args => {
      app.shell.activateById(sidebar.id);
      return sidebar.openEnvironmentForm({
        image: args.image as string | undefined,
        host: args.host as string | undefined,
        gpus: args.gpus as string | undefined
      });
    }
  });
}

function addEnvironmentCommands(context: ICommandContext): void {
  const { app, model, tracker, fileBrowser, trans } = context;
  const { commands } = app;
  commands.addCommand(CommandIDs.newNotebook, {
    label: args =>
      args.environment
        ? trans.__('New Notebook with %1', String(args.environment))
        : trans.__('New Notebook with a GPU Environment'),
    caption: trans.__(
      'Create an untitled notebook in the current folder with the environment’s kernel'
    ),
    isEnabled: args => !!args.environment,
    execute: async args => {
      const env = await environmentOf(model, args, trans);
      const created = (await commands.execute('docmanager:new-untitled', {
        path: fileBrowser?.model.path ?? '',
        type: 'notebook'
      })) as Contents.IModel;
      return commands.execute('docmanager:open', {
        path: created.path,
        factory: 'Notebook',
        kernel: { name: env.kernel_name }
      });
    }
  });
  commands.addCommand(CommandIDs.useEnvironment, {
    label: args =>
      args.environment
        ? trans.__('Use %1 for the Current Notebook', String(args.environment))
        : trans.__('Use a GPU Environment for the Current Notebook'),
    isEnabled: args => !!args.environment && !!tracker?.currentWidget,
    execute: async args => {
      const env = await environmentOf(model, args, trans);
      const panel = tracker?.currentWidget;
      if (!panel) {
        throw new Error(
          trans.__('Open a notebook first: there is no current notebook.')
        );
      }
      await panel.sessionContext.changeKernel({ name: env.kernel_name });
      app.shell.activateById(panel.id);
    }
  });
}

function addShutdownCommand(context: ICommandContext): void {
  const { app, model, current, trans } = context;
  app.commands.addCommand(CommandIDs.shutdownCurrent, {
    label: trans.__('Shut Down the Current Notebook’s Kernel Container'),
    caption: trans.__(
      'Stop and remove the Docker container of the current notebook’s kernel'
    ),
    icon: stopIcon,
    isEnabled: () => !!current?.current?.kernelId,
    execute: async () => {
      const info = current?.current;
      if (!info?.kernelId) {
        return;
      }
      if (!model.kernel(info.kernelId)) {
        await model.refreshKernels();
      }
      if (!model.kernel(info.kernelId)) {
        Notification.warning(
          trans.__(
            'The kernel of %1 does not run in a GPU kernel container.',
            info.panel.context.path
          ),
          { autoClose: 6000 }
        );
        return;
      }
      try {
        await model.shutdownKernel(info.kernelId);
      } catch (reason) {
        notifyError(
          trans.__('Shut down'),
          trans.__('Shut down failed: %1', errorMessage(reason, trans)),
          trans
        );
      }
    }
  });
}
