/**
 * "Copy to host…" on an image of the Images section: a small dialog choosing
 * the target among the model's other hosts, then the copy
 * (`POST hosts/{host}/images/copy`, docker save | docker load through the
 * server), polled until it ends, with its progress, success or failure in a
 * Notification; the target's images are listed again when it is done.
 */
import { Dialog, Notification, showDialog } from '@jupyterlab/apputils';
import { TranslationBundle } from '@jupyterlab/translation';
import { ReactWidget } from '@jupyterlab/ui-components';
import * as React from 'react';

import { errorMessage, IDockerHost } from '../api';
import { CopiesAPI, ICopy } from '../copyApi';
import { GPUKernelsModel } from '../model';
import { detailsActions } from '../notify';

/** The hosts an image on `source` can be copied to: the others, reachable first. */
export function copyTargets(hosts: IDockerHost[], source: string): string[] {
  const others = hosts.filter(h => h.name !== source);
  return [
    ...others.filter(h => h.reachable !== false),
    ...others.filter(h => h.reachable === false)
  ].map(h => h.name);
}

/** The Notification text of a finished copy. */
export function copyOutcome(copy: ICopy, trans: TranslationBundle): string {
  return copy.status === 'done'
    ? trans.__('Copied %1 from %2 to %3', copy.image, copy.host, copy.to)
    : trans.__(
        'Copying %1 to %2 failed: %3',
        copy.image,
        copy.to,
        copy.error || trans.__('unknown error')
      );
}

class TargetForm extends ReactWidget implements Dialog.IBodyWidget<string> {
  constructor(
    private _targets: string[],
    private _image: string,
    private _trans: TranslationBundle
  ) {
    super();
    this._value = _targets[0] ?? '';
    this.addClass('jp-GPUKernels-copyDialog');
  }

  getValue(): string {
    return this._value;
  }

  protected render(): JSX.Element {
    const trans = this._trans;
    return (
      <div className="jp-GPUKernels-form">
        <label className="jp-GPUKernels-field">
          {trans.__('Copy %1 to host', this._image)}
          <select
            className="jp-mod-styled"
            name="to"
            value={this._value}
            onChange={e => {
              this._value = e.target.value;
              this.update();
            }}
          >
            {this._targets.map(name => (
              <option key={name} value={name}>
                {name}
              </option>
            ))}
          </select>
        </label>
      </div>
    );
  }

  private _value: string;
}

/** Ask for the target host, copy, and report in a Notification. */
export async function copyImageToHost(
  model: GPUKernelsModel,
  source: string,
  image: string,
  trans: TranslationBundle
): Promise<ICopy | null> {
  const targets = copyTargets(model.hosts.value ?? [], source);
  if (!targets.length) {
    Notification.warning(
      trans.__('There is no other host to copy %1 to.', image)
    );
    return null;
  }
  const result = await showDialog({
    title: trans.__('Copy image to another host'),
    body: new TargetForm(targets, image, trans),
    buttons: [
      Dialog.cancelButton({ label: trans.__('Cancel') }),
      Dialog.okButton({ label: trans.__('Copy') })
    ]
  });
  if (!result.button.accept || !result.value) {
    return null;
  }
  const to = result.value;
  const api = new CopiesAPI(model.api);
  const id = Notification.emit(
    trans.__('Copying %1 from %2 to %3…', image, source, to),
    'in-progress',
    { autoClose: false }
  );
  try {
    const copy = await api.wait(await api.startCopy(source, image, to));
    const outcome = copyOutcome(copy, trans);
    Notification.update({
      id,
      message: outcome,
      type: copy.status === 'done' ? 'success' : 'error',
      autoClose: copy.status === 'done' ? 5000 : false,
      actions:
        copy.status === 'done'
          ? []
          : detailsActions(trans.__('Copy image'), outcome, trans)
    });
    if (copy.status === 'done') {
      void model.refreshImages(to);
    }
    return copy;
  } catch (reason) {
    const message = trans.__(
      'Copying %1 to %2 failed: %3',
      image,
      to,
      errorMessage(reason, trans)
    );
    Notification.update({
      id,
      message,
      type: 'error',
      autoClose: false,
      actions: detailsActions(trans.__('Copy image'), message, trans)
    });
    return null;
  }
}
