/**
 * The create/edit environment dialog. It stays open until the server accepts
 * the environment: "Create"/"Save" (or Enter) saves, and a validation error
 * is shown next to its field (components/EnvironmentForm.tsx). Opened by the
 * sidebar (widgets/Sidebar.tsx); saves through `model.saveEnvironment`.
 */
import { Dialog } from '@jupyterlab/apputils';
import { TranslationBundle } from '@jupyterlab/translation';
import { ReactWidget } from '@jupyterlab/ui-components';
import { Signal } from '@lumino/signaling';
import * as React from 'react';

import { IEnvironment } from '../api';
import { EnvironmentForm } from '../components/EnvironmentForm';
import {
  checkName,
  IEnvironmentDraft,
  IFieldError,
  IFormState,
  initialState,
  saveError,
  toFields
} from '../formState';
import { GPUKernelsModel } from '../model';

/**
 * The form as a dialog body. It holds the latest form state and the last
 * save's error; `submit()` saves, and `getValue()` is the saved environment.
 */
export class EnvironmentFormBody
  extends ReactWidget
  implements Dialog.IBodyWidget<IEnvironment | null>
{
  constructor(private _options: EnvironmentFormBody.IOptions) {
    super();
    this.addClass('jp-GPUKernels-envDialogBody');
    const { model, draft } = _options;
    this._state = initialState(draft, model.host);
    // the host choices, image tags and GPU chips come from the model
    model.hostsChanged.connect(this._onModelChanged, this);
    model.gpusChanged.connect(this._onModelChanged, this);
    model.imagesChanged.connect(this._onModelChanged, this);
  }

  /** The saved environment (after a successful `submit`). */
  getValue(): IEnvironment | null {
    return this._saved;
  }

  /** Check the name, then save; false (and the message shown) when that failed. */
  async submit(): Promise<boolean> {
    const { model, editing, trans } = this._options;
    const state = this._state;
    this._setError(checkName(state, editing, trans));
    if (this._error) {
      return false;
    }
    const name = editing ?? state.name.trim();
    try {
      this._saved = await model.saveEnvironment(
        name,
        toFields(state),
        !!editing
      );
      return true;
    } catch (reason) {
      this._setError(saveError(reason, trans));
      return false;
    }
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    Signal.clearData(this);
    super.dispose();
  }

  protected render(): JSX.Element {
    const { model, draft, editing, trans } = this._options;
    return (
      <EnvironmentForm
        model={model}
        draft={draft}
        editing={editing}
        error={this._error}
        onChange={state => {
          this._state = state;
        }}
        trans={trans}
      />
    );
  }

  private _onModelChanged(): void {
    this.update();
  }

  private _setError(error: IFieldError | null): void {
    this._error = error;
    this.update();
  }

  private _state: IFormState;
  private _error: IFieldError | null = null;
  private _saved: IEnvironment | null = null;
}

export namespace EnvironmentFormBody {
  export interface IOptions {
    model: GPUKernelsModel;
    draft: IEnvironmentDraft;
    /** The name of the environment being edited; absent when creating one. */
    editing?: string;
    trans: TranslationBundle;
  }
}

/** The dialog's renderer, keeping the footer buttons it made (to disable them while saving). */
class ButtonsRenderer extends Dialog.Renderer {
  readonly buttons: HTMLButtonElement[] = [];

  createButtonNode(button: Dialog.IButton): HTMLButtonElement {
    const node = super.createButtonNode(button);
    this.buttons.push(node);
    return node;
  }
}

/** The accept button's index in the dialog's buttons. */
const SAVE = 1;

/** A dialog whose "Create"/"Save" button saves the form and closes only when that worked. */
class EnvironmentDialog extends Dialog<IEnvironment | null> {
  constructor(
    private _form: EnvironmentFormBody,
    private _renderer: ButtonsRenderer,
    editing: string | undefined,
    trans: TranslationBundle
  ) {
    super({
      title: editing
        ? trans.__('Edit environment “%1”', editing)
        : trans.__('New environment'),
      body: _form,
      buttons: [
        Dialog.cancelButton({ label: trans.__('Cancel') }),
        Dialog.okButton({
          label: editing ? trans.__('Save') : trans.__('Create')
        })
      ],
      defaultButton: SAVE,
      focusNodeSelector: 'input[name="name"], input[name="image"]',
      renderer: _renderer
    });
    this.addClass('jp-GPUKernels-envDialog');
  }

  resolve(index?: number): void {
    if (index !== undefined && index !== SAVE) {
      super.resolve(index);
      return;
    }
    if (this._saving) {
      return;
    }
    this._setSaving(true);
    void this._form.submit().then(ok => {
      this._setSaving(false);
      if (ok) {
        super.resolve(SAVE);
      }
    });
  }

  private _setSaving(saving: boolean): void {
    this._saving = saving;
    this.toggleClass('jp-mod-saving', saving);
    for (const button of this._renderer.buttons) {
      button.disabled = saving;
    }
  }

  private _saving = false;
}

/**
 * Show the create/edit form; resolves with the saved environment, or null when cancelled.
 */
export async function openEnvironmentDialog(
  options: EnvironmentFormBody.IOptions
): Promise<IEnvironment | null> {
  const body = new EnvironmentFormBody(options);
  const dialog = new EnvironmentDialog(
    body,
    new ButtonsRenderer(),
    options.editing,
    options.trans
  );
  const result = await dialog.launch();
  return result.button.accept ? result.value : null;
}
