/**
 * Error notifications whose whole text stays readable: JupyterLab's toasts
 * show only the first characters of a message (the rest is only in the
 * notification centre), and our errors put their cause and fix after the
 * subject ("Copying x to gpubox failed: … is not reachable: …"). A long
 * message gets a "Details" action that opens it whole in a dialog.
 */
import { Notification, showErrorMessage } from '@jupyterlab/apputils';
import { TranslationBundle } from '@jupyterlab/translation';

/** Messages longer than this are cut in a toast (JupyterLab 4 shows 140 characters). */
export const TOAST_TEXT_LIMIT = 140;

/** The actions to add to an error notification of `message`: "Details" if a toast would cut it. */
export function detailsActions(
  title: string,
  message: string,
  trans: TranslationBundle
): Notification.IAction[] {
  if (message.length <= TOAST_TEXT_LIMIT) {
    return [];
  }
  return [
    {
      label: trans.__('Details'),
      caption: trans.__('Show the whole message'),
      callback: () => void showErrorMessage(title, message)
    }
  ];
}

/** `Notification.error` of `message`, with "Details" when the toast would cut it. */
export function notifyError(
  title: string,
  message: string,
  trans: TranslationBundle,
  autoClose: number | false = 8000
): string {
  const actions = detailsActions(title, message, trans);
  return Notification.error(message, {
    autoClose: actions.length ? false : autoClose,
    actions
  });
}
