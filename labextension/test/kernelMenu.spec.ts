/**
 * Unit test of kernelMenu.ts: the kernel-terminal command goes into the Kernel
 * menu (when there is a main menu) and the status bar item's context menu.
 */
import { JupyterFrontEnd } from '@jupyterlab/application';
import { IMainMenu } from '@jupyterlab/mainmenu';

import { addKernelTerminalMenus } from '../src/kernelMenu';
import { OPEN_KERNEL_TERMINAL } from '../src/terminalCommands';

function fakes() {
  const groups: { command: string }[][] = [];
  const context: { command: string; selector: string }[] = [];
  const app = {
    contextMenu: { addItem: (item: any) => context.push(item) }
  } as unknown as JupyterFrontEnd;
  const mainMenu = {
    kernelMenu: { addGroup: (items: any) => groups.push(items) }
  } as unknown as IMainMenu;
  return { app, mainMenu, groups, context };
}

describe('kernel terminal menus', () => {
  it('adds the command to the Kernel menu and the status item', () => {
    const { app, mainMenu, groups, context } = fakes();
    addKernelTerminalMenus(app, mainMenu);
    expect(groups).toEqual([[{ command: OPEN_KERNEL_TERMINAL }]]);
    expect(context).toMatchObject([
      { command: OPEN_KERNEL_TERMINAL, selector: '.jp-GPUKernels-status' }
    ]);
  });
  it('works without a main menu', () => {
    const { app, context } = fakes();
    addKernelTerminalMenus(app, null);
    expect(context).toHaveLength(1);
  });
});
