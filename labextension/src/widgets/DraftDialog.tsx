/**
 * The dialog-form pattern of "Build image…" and "Save as image…", once: a form
 * body that edits a draft (a note under a field, the server's refusal at the
 * bottom), its tag field (with the note under it) and the handling of a
 * refused tag (the server's suggested next version, else its message), and the
 * loop that shows it until the request succeeds or the user cancels, bringing
 * the dialog back with the server's message on a refusal.
 * Used by BuildDialog.tsx and CommitDialog.tsx.
 */
import { Dialog, showDialog } from '@jupyterlab/apputils';
import { TranslationBundle } from '@jupyterlab/translation';
import { ReactWidget } from '@jupyterlab/ui-components';
import * as React from 'react';

import { errorMessage } from '../api';
import { suggestedTag, suggestionText } from '../build';

/** What every draft carries besides its fields. */
export interface IDraftMessages {
  note?: string;
  error?: string;
}

/** A draft with the image tag it will create (NAME:TAG). */
export interface ITagDraft extends IDraftMessages {
  tag: string;
}

/** A dialog body editing a draft of type T; subclasses render the fields. */
export abstract class DraftForm<T extends IDraftMessages>
  extends ReactWidget
  implements Dialog.IBodyWidget<T>
{
  constructor(
    private _draft: T,
    protected trans: TranslationBundle,
    className: string
  ) {
    super();
    this.addClass(className);
  }

  getValue(): T {
    return { ...this._draft };
  }

  /** The fields, given the draft and the setter of a part of it. */
  protected abstract renderFields(
    d: T,
    set: (patch: Partial<T>) => void
  ): React.ReactNode;

  protected render(): JSX.Element {
    const d = this._draft;
    const set = (patch: Partial<T>) => {
      this._draft = { ...this._draft, ...patch };
      this.update();
    };
    return (
      <div className="jp-GPUKernels-form">
        {this.renderFields(d, set)}
        {d.error && (
          <div className="jp-GPUKernels-error" role="alert">
            {d.error}
          </div>
        )}
      </div>
    );
  }
}

/** A labelled text input (a textarea with `rows`) of a draft form. */
export function DraftInput(props: {
  label: string;
  name: string;
  value: string;
  onChange: (value: string) => void;
  rows?: number;
}): JSX.Element {
  const common = {
    className: 'jp-mod-styled',
    name: props.name,
    value: props.value,
    onChange: (e: React.ChangeEvent<HTMLInputElement | HTMLTextAreaElement>) =>
      props.onChange(e.target.value)
  };
  return (
    <label className="jp-GPUKernels-field">
      {props.label}
      {props.rows ? (
        <textarea {...common} rows={props.rows} />
      ) : (
        <input {...common} />
      )}
    </label>
  );
}

/** The note under a field (e.g. the suggested next tag), when there is one. */
export function DraftNote(props: { note?: string }): JSX.Element | null {
  return props.note ? (
    <div className="jp-GPUKernels-message">{props.note}</div>
  ) : null;
}

/** The tag input and the note under it (the suggested next tag), first in both dialogs. */
export function DraftTagField(props: {
  draft: ITagDraft;
  onChange: (tag: string) => void;
  trans: TranslationBundle;
}): JSX.Element {
  return (
    <>
      <DraftInput
        label={props.trans.__('Tag (NAME:TAG)')}
        name="tag"
        value={props.draft.tag}
        onChange={props.onChange}
      />
      <DraftNote note={props.draft.note} />
    </>
  );
}

/**
 * The draft to show again after a refusal: when the server says the tag exists
 * and suggests the next version, that tag with a note (`existing`: the refused
 * tag); otherwise the server's message as the dialog's error.
 */
export function refusedTag<T extends ITagDraft>(
  draft: T,
  message: string,
  trans: TranslationBundle,
  canReplace = false
): { draft: T; existing?: string } {
  const tag = draft.tag.trim();
  const next = suggestedTag(message);
  return next
    ? {
        draft: {
          ...draft,
          tag: next,
          note: suggestionText(tag, next, trans, canReplace)
        },
        existing: tag
      }
    : { draft: { ...draft, error: message } };
}

/**
 * Show `form(draft)` until `submit` succeeds (its result) or the user cancels
 * (null); a refusal shows the form again with `refused(draft, message)`, by
 * default `refusedTag`'s draft (the next free tag, else the server's message).
 */
export async function draftDialog<T extends ITagDraft, R>(options: {
  title: string;
  okLabel: string;
  initial: T;
  form: (draft: T) => DraftForm<T>;
  submit: (draft: T) => Promise<R>;
  refused?: (draft: T, message: string) => T;
  trans: TranslationBundle;
}): Promise<R | null> {
  const { trans } = options;
  const refused =
    options.refused ??
    ((d: T, message: string) => refusedTag(d, message, trans).draft);
  let draft = options.initial;
  for (;;) {
    const result = await showDialog({
      title: options.title,
      body: options.form(draft),
      buttons: [
        Dialog.cancelButton({ label: trans.__('Cancel') }),
        Dialog.okButton({ label: options.okLabel })
      ],
      focusNodeSelector: 'input[name="tag"]'
    });
    if (!result.button.accept || !result.value) {
      return null;
    }
    draft = { ...result.value, note: undefined, error: undefined };
    try {
      return await options.submit(draft);
    } catch (reason) {
      draft = refused(draft, errorMessage(reason, trans));
    }
  }
}
