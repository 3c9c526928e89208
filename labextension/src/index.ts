import {
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ISettingRegistry } from '@jupyterlab/settingregistry';

import { gpuIcon } from './icon';
import { GPUKernelsSidebar } from './sidebar';

export { requestAPI } from './request';
export { GPUKernelsSidebar, IDockerHost } from './sidebar';

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
    'Left sidebar for jupyter-gpu-kernels: Docker hosts, GPUs and GPU kernels.',
  autoStart: true,
  optional: [ILayoutRestorer, ISettingRegistry],
  activate: (
    app: JupyterFrontEnd,
    restorer: ILayoutRestorer | null,
    settingRegistry: ISettingRegistry | null
  ) => {
    console.log('JupyterLab extension jupyter-gpu-kernels is activated!');

    const sidebar = new GPUKernelsSidebar({
      serverSettings: app.serviceManager.serverSettings
    });
    sidebar.id = SIDEBAR_ID;
    sidebar.title.icon = gpuIcon;
    sidebar.title.caption = 'GPU Kernels';
    app.shell.add(sidebar, 'left', { rank: 400 });
    if (restorer) {
      restorer.add(sidebar, SIDEBAR_ID);
    }

    if (settingRegistry) {
      settingRegistry
        .load(PLUGIN_ID)
        .then(settings => {
          const apply = () => {
            sidebar.refreshInterval = settings.get('refreshInterval')
              .composite as number;
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
