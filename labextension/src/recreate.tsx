/**
 * "Recreate environment": when a notebook opens whose
 * `metadata.jupyter_gpu_kernels` names an environment that does not exist
 * here, ask (with the server's review: image, pinned digest, GPUs, host,
 * mounts, non-default fields) and create it through
 * `POST environments/from-notebook`; then offer to switch the notebook to it
 * ("Use for current notebook"). Set up by buildCommands.ts.
 */
import { JupyterFrontEnd } from '@jupyterlab/application';
import { Dialog, showDialog } from '@jupyterlab/apputils';
import { INotebookTracker, NotebookPanel } from '@jupyterlab/notebook';
import { TranslationBundle } from '@jupyterlab/translation';
import { ReactWidget } from '@jupyterlab/ui-components';
import * as React from 'react';

import { errorMessage } from './api';
import { missingEnvironment, reviewItems } from './build';
import { BuildsAPI, IFromNotebook } from './buildApi';
import { CommandIDs } from './commands';
import { GPUKernelsModel } from './model';

class ReviewBody extends ReactWidget implements Dialog.IBodyWidget<boolean> {
  constructor(
    private _review: IFromNotebook,
    private _pin: boolean,
    private _canPin: boolean,
    private _onPin: (pin: boolean) => void,
    private _trans: TranslationBundle
  ) {
    super();
    this.addClass('jp-GPUKernels-recreateDialog');
  }

  getValue(): boolean {
    return this._pin;
  }

  protected render(): JSX.Element {
    const trans = this._trans;
    const { items } = reviewItems(this._review, trans);
    return (
      <div>
        <p>
          {trans.__(
            'This notebook ran in the GPU environment “%1”, which does not exist here. Review what would be created:',
            this._review.name
          )}
        </p>
        <ul className="jp-GPUKernels-review">
          {items.map(i => (
            <li key={i}>{i}</li>
          ))}
        </ul>
        {this._canPin && (
          <label>
            <input
              type="checkbox"
              name="pin"
              checked={this._pin}
              onChange={e => {
                this._pin = e.target.checked;
                this._onPin(this._pin);
              }}
            />
            {trans.__('Pin the image by the recorded digest')}
          </label>
        )}
      </div>
    );
  }
}

/** Ask to recreate the environment notebook `path` records; true when created. */
export async function recreateFromNotebook(
  app: JupyterFrontEnd,
  model: GPUKernelsModel,
  builds: BuildsAPI,
  panel: NotebookPanel,
  trans: TranslationBundle
): Promise<boolean> {
  const path = panel.context.path;
  const recorded = missingEnvironment(
    panel.content.model?.metadata ?? {},
    model.environments.value ?? []
  );
  if (!recorded) {
    return false;
  }
  const canPin = !!recorded.image_digests?.length;
  let pin = canPin;
  let review: IFromNotebook;
  let reviewed = pin;
  for (;;) {
    reviewed = pin;
    try {
      review = await builds.fromNotebook(path, pin, false);
    } catch (reason) {
      await showError(recorded.environment, errorMessage(reason, trans), trans);
      return false;
    }
    const body = new ReviewBody(review, pin, canPin, p => (pin = p), trans);
    const answer = await showDialog({
      title: reviewItems(review, trans).title,
      body,
      buttons: [
        Dialog.cancelButton({ label: trans.__('Not now') }),
        Dialog.okButton({ label: trans.__('Recreate') })
      ]
    });
    if (!answer.button.accept) {
      return false;
    }
    if (!!answer.value === reviewed) {
      break; // the review shown is the one to create
    }
    pin = !!answer.value; // the pin choice changed: review again
  }
  try {
    await builds.fromNotebook(path, pin, true);
  } catch (reason) {
    await showError(recorded.environment, errorMessage(reason, trans), trans);
    return false;
  }
  await Promise.all([
    model.refreshEnvironments(),
    app.serviceManager.kernelspecs.refreshSpecs()
  ]);
  const use = await showDialog({
    title: trans.__('Environment %1 created', review.name),
    body: trans.__('Switch %1 to the kernel of %2 now?', path, review.name),
    buttons: [
      Dialog.cancelButton({ label: trans.__('Later') }),
      Dialog.okButton({ label: trans.__('Use for this notebook') })
    ]
  });
  if (use.button.accept && !panel.isDisposed) {
    app.shell.activateById(panel.id);
    await app.commands.execute(CommandIDs.useEnvironment, {
      environment: review.name
    });
  }
  return true;
}

async function showError(
  name: string,
  message: string,
  trans: TranslationBundle
): Promise<void> {
  await showDialog({
    title: trans.__('Cannot recreate environment %1', name),
    body: message,
    buttons: [Dialog.okButton({ label: trans.__('OK') })]
  });
}

/** Check every notebook that opens. */
export function watchOpenedNotebooks(
  app: JupyterFrontEnd,
  model: GPUKernelsModel,
  builds: BuildsAPI,
  tracker: INotebookTracker,
  trans: TranslationBundle
): void {
  tracker.widgetAdded.connect((_, panel) => {
    void panel.context.ready.then(async () => {
      if (!model.environments.value) {
        await model.refreshEnvironments();
      }
      if (model.environments.value) {
        await recreateFromNotebook(app, model, builds, panel, trans);
      }
    });
  });
}
