/**
 * The extension's translation domain and bundle loader. Every module that shows
 * text gets a `TranslationBundle` from here (directly, or as a `trans` prop from
 * the plugin), so all user-facing strings go through JupyterLab's ITranslator.
 */
import {
  ITranslator,
  nullTranslator,
  TranslationBundle
} from '@jupyterlab/translation';

/** The gettext domain of this extension (the Python package's name). */
export const TRANSLATION_DOMAIN = 'jupyter_gpu_kernels';

/** The bundle of this extension; the untranslated one without a translator. */
export function loadTrans(translator?: ITranslator | null): TranslationBundle {
  return (translator ?? nullTranslator).load(TRANSLATION_DOMAIN);
}
