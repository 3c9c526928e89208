/**
 * The plugin `jupyter-gpu-kernels:plugin`: builds the model, the sidebar
 * (restored on reload), the commands and palette items, the status bar item
 * and the settings, the Kernel menu item (kernelMenu.ts), and provides `IGPUKernels` to other extensions. This is
 * the package's entry point; it also re-exports the public API.
 */
import {
  ILabShell,
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';
import { IDefaultFileBrowser } from '@jupyterlab/filebrowser';
import { IMainMenu } from '@jupyterlab/mainmenu';
import { INotebookTracker } from '@jupyterlab/notebook';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { IStateDB } from '@jupyterlab/statedb';
import { IStatusBar } from '@jupyterlab/statusbar';
import { ITranslator, TranslationBundle } from '@jupyterlab/translation';
import { Signal } from '@lumino/signaling';

import { GPUKernelsAPI } from './api';
import { PALETTE_CATEGORY, PALETTE_COMMANDS } from './commands';
import { gpuIcon } from './icon';
import { addKernelTerminalMenus } from './kernelMenu';
import { GPUKernelsModel } from './model';
import { CurrentKernelTracker } from './notebook';
import { addCommands } from './registerCommands';
import { OPEN_KERNEL_TERMINAL } from './terminalCommands';
import { IGPUKernels } from './tokens';
import { loadTrans } from './translation';
import { GPUKernelsSidebar } from './widgets/Sidebar';
import { KernelStatusItem } from './widgets/StatusBarItem';

export { requestAPI } from './request';
export * from './api';
export { CommandIDs } from './commands';
export { GPUKernelsModel } from './model';
export { IGPUKernels } from './tokens';
export { GPUKernelsSidebar } from './widgets/Sidebar';

/**
 * Plugin id; also the key of the settings in schema/plugin.json.
 */
const PLUGIN_ID = 'jupyter-gpu-kernels:plugin';

/**
 * DOM id of the left-sidebar panel (also the layout-restorer key).
 */
export const SIDEBAR_ID = 'jupyter-gpu-kernels-sidebar';

const plugin: JupyterFrontEndPlugin<IGPUKernels> = {
  id: PLUGIN_ID,
  description:
    'Left sidebar for jupyter-gpu-kernels: Docker hosts, GPUs, images, environments and kernel containers.',
  autoStart: true,
  provides: IGPUKernels,
  optional: [
    ILayoutRestorer,
    ISettingRegistry,
    ICommandPalette,
    INotebookTracker,
    IStatusBar,
    IDefaultFileBrowser,
    IStateDB,
    ILabShell,
    ITranslator,
    IMainMenu
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
    labShell: ILabShell | null,
    translator: ITranslator | null,
    mainMenu: IMainMenu | null
  ): IGPUKernels => {
    const trans = loadTrans(translator);
    const { serviceManager } = app;
    const model = new GPUKernelsModel({
      api: new GPUKernelsAPI(serviceManager.serverSettings),
      kernelspecs: serviceManager.kernelspecs,
      kernels: serviceManager.kernels,
      sessions: serviceManager.sessions,
      state: state ?? undefined,
      translator: translator ?? undefined
    });
    const sidebar = addSidebar(app, model, restorer, translator);
    const current = tracker ? new CurrentKernelTracker(model, tracker) : null;

    addCommands({ app, model, sidebar, tracker, current, fileBrowser, trans });
    if (palette) {
      for (const command of PALETTE_COMMANDS) {
        palette.addItem({ command, category: trans.__(PALETTE_CATEGORY) });
      }
      palette.addItem({
        command: OPEN_KERNEL_TERMINAL,
        category: trans.__(PALETTE_CATEGORY)
      });
    }
    addKernelTerminalMenus(app, mainMenu);
    if (statusBar && tracker && current) {
      addStatusItem(app, statusBar, tracker, current, labShell, trans);
    }
    if (settingRegistry) {
      applySettings(settingRegistry, sidebar, current);
    }
    return {
      model,
      api: model.api,
      currentKernel: current,
      openEnvironmentForm: (draft, editing) =>
        sidebar.openEnvironmentForm(draft, editing)
    };
  }
};

/** The panel in the left area, restored on reload. */
function addSidebar(
  app: JupyterFrontEnd,
  model: GPUKernelsModel,
  restorer: ILayoutRestorer | null,
  translator: ITranslator | null
): GPUKernelsSidebar {
  const sidebar = new GPUKernelsSidebar({
    model,
    commands: app.commands,
    translator: translator ?? undefined
  });
  sidebar.id = SIDEBAR_ID;
  sidebar.title.icon = gpuIcon;
  app.shell.add(sidebar, 'left', { rank: 400, type: 'GPU Kernels' });
  restorer?.add(sidebar, SIDEBAR_ID);
  return sidebar;
}

/** `host · image · GPUs` of the current notebook, while a notebook is the current widget. */
function addStatusItem(
  app: JupyterFrontEnd,
  statusBar: IStatusBar,
  tracker: INotebookTracker,
  current: CurrentKernelTracker,
  labShell: ILabShell | null,
  trans: TranslationBundle
): void {
  const item = new KernelStatusItem(
    current,
    () => app.shell.activateById(SIDEBAR_ID),
    trans
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

/** `refreshInterval` and `recordInNotebookMetadata`, now and on every change. */
function applySettings(
  registry: ISettingRegistry,
  sidebar: GPUKernelsSidebar,
  current: CurrentKernelTracker | null
): void {
  registry
    .load(PLUGIN_ID)
    .then(settings => {
      const apply = () => {
        sidebar.refreshInterval = settings.get('refreshInterval')
          .composite as number;
        if (current) {
          current.recordInMetadata = settings.get('recordInNotebookMetadata')
            .composite as boolean;
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

export default plugin;
