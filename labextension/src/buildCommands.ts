/**
 * Commands for issue #12's workflow, registered by registerCommands.ts:
 * build an image from a Dockerfile (file-browser context menu and the
 * sidebar's Images section), save a running kernel as an image, export an
 * environment, recreate a notebook's environment (also offered when such a
 * notebook opens, recreate.ts).
 */
import { JupyterFrontEnd } from '@jupyterlab/application';
import { showErrorMessage } from '@jupyterlab/apputils';
import { IDefaultFileBrowser } from '@jupyterlab/filebrowser';
import { INotebookTracker } from '@jupyterlab/notebook';
import { TranslationBundle } from '@jupyterlab/translation';

import { errorMessage } from './api';
import { defaultTag, isDockerfileName } from './build';
import { BuildsAPI } from './buildApi';
import { CommandIDs } from './commands';
import { GPUKernelsModel } from './model';
import { recreateFromNotebook, watchOpenedNotebooks } from './recreate';
import { commitKernelDialog } from './widgets/CommitDialog';
import { createBuildLogWidget } from './widgets/BuildLog';
import { startBuildDialog } from './widgets/BuildDialog';
import { exportDialog } from './widgets/ExportDialog';

/** What the commands use (a part of registerCommands.ts' context). */
export interface IBuildCommandContext {
  app: JupyterFrontEnd;
  model: GPUKernelsModel;
  tracker: INotebookTracker | null;
  fileBrowser: IDefaultFileBrowser | null;
  trans: TranslationBundle;
}

/** The selected file of the file browser when it is a Dockerfile. */
function selectedDockerfile(context: IBuildCommandContext): string | null {
  const model = context.fileBrowser?.selectedItems().next().value;
  return model && model.type !== 'directory' && isDockerfileName(model.name)
    ? model.path
    : null;
}

export function addBuildCommands(context: IBuildCommandContext): void {
  const { app, model, tracker, fileBrowser, trans } = context;
  const builds = new BuildsAPI(model.api);
  const fail = (title: string, reason: unknown) =>
    void showErrorMessage(title, errorMessage(reason, trans));

  app.commands.addCommand(CommandIDs.buildImage, {
    label: trans.__('Build image…'),
    caption: trans.__('Build a Docker image from a Dockerfile on a host'),
    // in the file browser's context menu only on Dockerfiles
    isVisible: args =>
      !!args.host || !!args.path || !!selectedDockerfile(context),
    execute: async args => {
      const file =
        (args.path as string | undefined) ??
        selectedDockerfile(context) ??
        [fileBrowser?.model.path, 'Dockerfile'].filter(Boolean).join('/');
      if (!model.hosts.value) {
        await model.refreshHosts();
      }
      const hosts = (model.hosts.value ?? []).map(h => h.name);
      const build = await startBuildDialog(
        builds,
        {
          host: (args.host as string | undefined) ?? model.host ?? 'local',
          hosts: hosts.length ? hosts : ['local'],
          file,
          tag: defaultTag(file),
          buildArgs: ''
        },
        trans
      );
      if (build) {
        const widget = createBuildLogWidget(
          builds,
          build,
          (image, host) =>
            void app.commands.execute(CommandIDs.newEnvironment, {
              image,
              host
            }),
          trans
        );
        app.shell.add(widget, 'main');
        app.shell.activateById(widget.id);
      }
    }
  });
  app.contextMenu.addItem({
    command: CommandIDs.buildImage,
    selector: '.jp-DirListing-item[data-isdir="false"]',
    rank: 60
  });

  app.commands.addCommand(CommandIDs.commitKernel, {
    label: trans.__('Save as image…'),
    caption: trans.__('Save a running kernel’s container as an image'),
    isEnabled: args => !!args.kernelId,
    execute: async args => {
      const kernelId = String(args.kernelId ?? '');
      const row = model.kernel(kernelId);
      const repo = (row?.environment || 'kernel').toLowerCase();
      try {
        await commitKernelDialog(builds, kernelId, `${repo}:saved`, trans);
        await model.refreshImages();
      } catch (reason) {
        fail(trans.__('Save as image failed'), reason);
      }
    }
  });
  app.commands.addCommand(CommandIDs.exportEnvironment, {
    label: trans.__('Export…'),
    caption: trans.__(
      'Show an environment as a docker run line, compose service, Dockerfile or JSON'
    ),
    isEnabled: args => !!args.environment,
    execute: args => exportDialog(builds, String(args.environment), trans)
  });
  app.commands.addCommand(CommandIDs.recreateEnvironment, {
    label: trans.__('Recreate the Notebook’s GPU Environment…'),
    isEnabled: () => !!tracker?.currentWidget,
    execute: async () => {
      const panel = tracker?.currentWidget;
      if (panel) {
        await model.refreshEnvironments();
        await recreateFromNotebook(app, model, builds, panel, trans);
      }
    }
  });
  if (tracker) {
    watchOpenedNotebooks(app, model, builds, tracker, trans);
  }
}
