import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

/**
 * URL namespace of the jupyter_gpu_kernels server extension.
 */
export const API_NAMESPACE = ['gpu-kernels', 'api'];

/**
 * Build the full URL of a server API endpoint.
 *
 * @param endPoint API path below `<baseUrl>gpu-kernels/api/`, e.g. `hosts`
 * @param serverSettings the app's server settings (`app.serviceManager.serverSettings`)
 */
export function apiUrl(
  endPoint: string,
  serverSettings: ServerConnection.ISettings
): string {
  return URLExt.join(serverSettings.baseUrl, ...API_NAMESPACE, endPoint);
}

/**
 * Call the jupyter_gpu_kernels server extension's REST API.
 *
 * @param endPoint API path below `<baseUrl>gpu-kernels/api/`, e.g. `hosts`
 * @param init initial values for the request (method, body, ...)
 * @param serverSettings the app's server settings (`app.serviceManager.serverSettings`)
 * @returns the parsed JSON body (or the raw text if it is not JSON)
 * @throws ServerConnection.NetworkError when the server cannot be reached
 * @throws ServerConnection.ResponseError on a non-2xx reply; `error.response.status`
 *   holds the HTTP status (404 when the server extension is not loaded)
 */
export async function requestAPI<T>(
  endPoint = '',
  init: RequestInit = {},
  serverSettings?: ServerConnection.ISettings
): Promise<T> {
  const settings = serverSettings ?? ServerConnection.makeSettings();
  const requestUrl = apiUrl(endPoint, settings);

  let response: Response;
  try {
    response = await ServerConnection.makeRequest(requestUrl, init, settings);
  } catch (error) {
    throw new ServerConnection.NetworkError(error as TypeError);
  }

  let data: any = await response.text();
  if (data.length > 0) {
    try {
      data = JSON.parse(data);
    } catch (error) {
      if (response.ok) {
        console.warn('jupyter-gpu-kernels: response is not JSON', requestUrl);
      }
    }
  }

  if (!response.ok) {
    // A JSON error of an API handler has a message; an HTML error page is no message.
    const message =
      typeof data === 'object'
        ? (data?.message ?? '')
        : /^\s*</.test(String(data))
          ? ''
          : String(data || '');
    const error = new ServerConnection.ResponseError(response, message || undefined);
    // validation errors name the offending field, so forms can show the message next to it
    if (typeof data === 'object' && typeof data?.field === 'string') {
      (error as ServerConnection.ResponseError & { field?: string }).field = data.field;
    }
    throw error;
  }

  return data as T;
}
