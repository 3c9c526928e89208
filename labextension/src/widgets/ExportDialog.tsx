/**
 * "Export…" on an environment: the four formats of
 * `GET environments/{name}/export` (docker run, compose, Dockerfile, JSON),
 * the text of the chosen one and a Copy button (JupyterLab's Clipboard).
 * Run by the `gpu-kernels:export-environment` command.
 */
import { Clipboard, Dialog, showDialog } from '@jupyterlab/apputils';
import { TranslationBundle } from '@jupyterlab/translation';
import { ReactWidget } from '@jupyterlab/ui-components';
import * as React from 'react';

import { errorMessage } from '../api';
import { BuildsAPI, ExportFormat, IExport } from '../buildApi';

const FORMATS: ExportFormat[] = ['run', 'compose', 'dockerfile', 'json'];

class ExportView extends ReactWidget {
  constructor(
    private _builds: BuildsAPI,
    private _name: string,
    private _trans: TranslationBundle
  ) {
    super();
    this.addClass('jp-GPUKernels-exportDialog');
    void this._load('run');
  }

  private async _load(format: ExportFormat): Promise<void> {
    this._format = format;
    this._copied = false;
    this.update();
    try {
      this._export = await this._builds.exportEnvironment(this._name, format);
      this._error = null;
    } catch (reason) {
      this._export = null;
      this._error = errorMessage(reason, this._trans);
    }
    this.update();
  }

  protected render(): JSX.Element {
    const trans = this._trans;
    const labels: { [key in ExportFormat]: string } = {
      run: trans.__('docker run'),
      compose: trans.__('Compose service'),
      dockerfile: trans.__('Dockerfile'),
      json: trans.__('JSON')
    };
    const text =
      this._export?.format === this._format ? this._export.text : null;
    return (
      <div className="jp-GPUKernels-export">
        <div className="jp-GPUKernels-exportFormats" role="radiogroup">
          {FORMATS.map(f => (
            <label key={f}>
              <input
                type="radio"
                name="format"
                value={f}
                checked={this._format === f}
                onChange={() => void this._load(f)}
              />
              {labels[f]}
            </label>
          ))}
        </div>
        {this._error && (
          <div className="jp-GPUKernels-error" role="alert">
            {this._error}
          </div>
        )}
        {this._export?.warning && (
          <div className="jp-GPUKernels-message">{this._export.warning}</div>
        )}
        <pre className="jp-GPUKernels-logText jp-GPUKernels-exportText">
          {text ?? (this._error ? '' : trans.__('Loading…'))}
        </pre>
        <button
          className="jp-mod-styled jp-GPUKernels-copy"
          disabled={text === null}
          onClick={() => {
            if (text !== null) {
              Clipboard.copyToSystem(text);
              this._copied = true;
              this.update();
            }
          }}
        >
          {this._copied ? trans.__('Copied') : trans.__('Copy')}
        </button>
      </div>
    );
  }

  private _format: ExportFormat = 'run';
  private _export: IExport | null = null;
  private _error: string | null = null;
  private _copied = false;
}

/** Show the export dialog of environment `name`. */
export async function exportDialog(
  builds: BuildsAPI,
  name: string,
  trans: TranslationBundle
): Promise<void> {
  await showDialog({
    title: trans.__('Export %1', name),
    body: new ExportView(builds, name, trans),
    buttons: [Dialog.okButton({ label: trans.__('Close') })]
  });
}
