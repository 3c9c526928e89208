/**
 * Where `gpu-kernels:open-kernel-terminal` (terminalCommands.ts) appears
 * besides the palette and the running-kernels list: the main menu's Kernel
 * menu (`IMainMenu`, optional) and the context menu of the status bar item
 * (widgets/StatusBarItem.tsx, class `jp-GPUKernels-status`). Without an
 * argument the command opens the current notebook's kernel container, and it
 * is disabled when the notebook has no kernel. Called by the plugin (index.ts).
 */
import { JupyterFrontEnd } from '@jupyterlab/application';
import { IMainMenu } from '@jupyterlab/mainmenu';

import { OPEN_KERNEL_TERMINAL } from './terminalCommands';

/** Rank of the group in the Kernel menu: after JupyterLab's own (interrupt, restart, shut down, change). */
const KERNEL_MENU_RANK = 200;

export function addKernelTerminalMenus(
  app: JupyterFrontEnd,
  mainMenu: IMainMenu | null
): void {
  mainMenu?.kernelMenu.addGroup(
    [{ command: OPEN_KERNEL_TERMINAL }],
    KERNEL_MENU_RANK
  );
  app.contextMenu.addItem({
    command: OPEN_KERNEL_TERMINAL,
    selector: '.jp-GPUKernels-status',
    rank: 10
  });
}
