import {
  ILabShell,
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette, Notification } from '@jupyterlab/apputils';
import { Contents } from '@jupyterlab/services';
import { IDefaultFileBrowser } from '@jupyterlab/filebrowser';
import { INotebookTracker } from '@jupyterlab/notebook';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { IStateDB } from '@jupyterlab/statedb';
import { IStatusBar } from '@jupyterlab/statusbar';
import { addIcon, refreshIcon, stopIcon } from '@jupyterlab/ui-components';
import { Signal } from '@lumino/signaling';

import { errorMessage, GPUKernelsAPI } from './api';
import { CommandIDs, PALETTE_CATEGORY } from './commands';
import { gpuIcon } from './icon';
import { GPUKernelsModel } from './model';
import { CurrentKernelTracker } from './notebook';
import { GPUKernelsSidebar } from './sidebar';
import { KernelStatusItem } from './statusbar';

export { requestAPI } from './request';
export * from './api';
export { CommandIDs } from './commands';
export { GPUKernelsModel } from './model';
export { GPUKernelsSidebar } from './sidebar';

/**
 * Plugin id; also the key of the settings in schema/plugin.json.
 */
const PLUGIN_ID = 'jupyter-gpu-kernels:plugin';

/**
 * DOM id of the left-sidebar panel (also the layout-restorer key).
 */
export const SIDEBAR_ID = 'jupyter-gpu-kernels-sidebar';

const plugin: JupyterFrontEndPlugin<void> = {
  id: PLUGIN_ID,
  description:
    'Left sidebar for jupyter-gpu-kernels: Docker hosts, GPUs, images, environments and kernel containers.',
  autoStart: true,
  optional: [
    ILayoutRestorer,
    ISettingRegistry,
    ICommandPalette,
    INotebookTracker,
    IStatusBar,
    IDefaultFileBrowser,
    IStateDB,
    ILabShell
  ],
  activate: (
    app: JupyterFrontEnd,
    restorer: ILayoutRestorer | null,
    settingRegistry: ISettingRegistry | null,
    palette: ICommandPalette | null,
    tracker: INotebookTracker | null,
    statusBar: IStatusBar | null,
    fileBrowser: IDefaultFileBrowser | null,
    state: IStateDB | null,
    labShell: ILabShell | null
  ) => {
    const { commands, serviceManager } = app;
    const model = new GPUKernelsModel({
      api: new GPUKernelsAPI(serviceManager.serverSettings),
      kernelspecs: serviceManager.kernelspecs,
      kernels: serviceManager.kernels,
      sessions: serviceManager.sessions,
      state: state ?? undefined
    });

    const sidebar = new GPUKernelsSidebar({ model, commands });
    sidebar.id = SIDEBAR_ID;
    sidebar.title.icon = gpuIcon;
    sidebar.title.caption = 'GPU Kernels';
    app.shell.add(sidebar, 'left', { rank: 400, type: 'GPU Kernels' });
    if (restorer) {
      restorer.add(sidebar, SIDEBAR_ID);
    }

    const current = tracker ? new CurrentKernelTracker(model, tracker) : null;

    /** The environment named in a command's args, loading the list if needed. */
    const environmentOf = async (args: { environment?: unknown }) => {
      const name = String(args.environment ?? '');
      if (!model.environments.value) {
        await model.refreshEnvironments();
      }
      const env = model.environments.value?.find(e => e.name === name);
      if (!env) {
        throw new Error(`No environment named “${name}”.`);
      }
      return env;
    };

    commands.addCommand(CommandIDs.openPanel, {
      label: 'Show GPU Kernels Panel',
      caption: 'Show the GPU Kernels sidebar',
      icon: gpuIcon,
      execute: () => app.shell.activateById(SIDEBAR_ID)
    });

    commands.addCommand(CommandIDs.refresh, {
      label: 'Refresh GPU Kernels',
      caption:
        'Reload Docker hosts, GPUs, images, environments and kernel containers',
      icon: refreshIcon,
      execute: () => model.refreshAll()
    });

    commands.addCommand(CommandIDs.newEnvironment, {
      label: 'New GPU Kernel Environment…',
      caption:
        'Create an environment: an image, a host, GPUs and limits, offered as a kernel',
      icon: addIcon,
      execute: args => {
        app.shell.activateById(SIDEBAR_ID);
        return sidebar.openEnvironmentForm({
          image: args.image as string | undefined,
          host: args.host as string | undefined,
          gpus: args.gpus as string | undefined
        });
      }
    });

    commands.addCommand(CommandIDs.newNotebook, {
      label: args =>
        args.environment
          ? `New Notebook with ${args.environment}`
          : 'New Notebook with a GPU Environment',
      caption:
        'Create an untitled notebook in the current folder with the environment’s kernel',
      isEnabled: args => !!args.environment,
      execute: async args => {
        const env = await environmentOf(args);
        const cwd = fileBrowser?.model.path ?? '';
        const created = (await commands.execute('docmanager:new-untitled', {
          path: cwd,
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
          ? `Use ${args.environment} for the Current Notebook`
          : 'Use a GPU Environment for the Current Notebook',
      isEnabled: args => !!args.environment && !!tracker?.currentWidget,
      execute: async args => {
        const env = await environmentOf(args);
        const panel = tracker?.currentWidget;
        if (!panel) {
          throw new Error(
            'Open a notebook first: there is no current notebook.'
          );
        }
        await panel.sessionContext.changeKernel({ name: env.kernel_name });
        app.shell.activateById(panel.id);
      }
    });

    commands.addCommand(CommandIDs.shutdownCurrent, {
      label: 'Shut Down the Current Notebook’s Kernel Container',
      caption:
        'Stop and remove the Docker container of the current notebook’s kernel',
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
            `The kernel of ${info.panel.context.path} does not run in a GPU kernel container.`,
            { autoClose: 6000 }
          );
          return;
        }
        try {
          await model.shutdownKernel(info.kernelId);
        } catch (reason) {
          Notification.error(`Shut down failed: ${errorMessage(reason)}`, {
            autoClose: 8000
          });
        }
      }
    });

    if (palette) {
      for (const command of [
        CommandIDs.openPanel,
        CommandIDs.refresh,
        CommandIDs.newEnvironment,
        CommandIDs.shutdownCurrent
      ]) {
        palette.addItem({ command, category: PALETTE_CATEGORY });
      }
    }

    if (statusBar && tracker && current) {
      const item = new KernelStatusItem(current, () =>
        app.shell.activateById(SIDEBAR_ID)
      );
      const activeChanged = new Signal<unknown, void>(item);
      labShell?.currentChanged.connect(() => activeChanged.emit());
      statusBar.registerStatusItem('jupyter-gpu-kernels:kernel-status', {
        item,
        align: 'left',
        rank: 4,
        isActive: () =>
          !!tracker.currentWidget &&
          app.shell.currentWidget === tracker.currentWidget,
        activeStateChanged: activeChanged
      });
    }

    if (settingRegistry) {
      settingRegistry
        .load(PLUGIN_ID)
        .then(settings => {
          const apply = () => {
            sidebar.refreshInterval = settings.get('refreshInterval')
              .composite as number;
            if (current) {
              current.recordInMetadata = settings.get(
                'recordInNotebookMetadata'
              ).composite as boolean;
            }
          };
          apply();
          settings.changed.connect(apply);
        })
        .catch(reason => {
          console.error(
            'jupyter-gpu-kernels: failed to load settings for',
            PLUGIN_ID,
            reason
          );
        });
    }
  }
};

export default plugin;
