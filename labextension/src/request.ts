/**
 * The one HTTP helper of the extension: `requestAPI` calls the server
 * extension's REST API under `<baseUrl>gpu-kernels/api/` and turns a JSON error
 * reply into a `ServerConnection.ResponseError` carrying the server's message
 * (and the `field` a validation error names). `requestJSON` (with `enc` for
 * path segments) is the requester of the API classes: api.ts, buildApi.ts and
 * copyApi.ts.
 */
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

  const text = await response.text();
  if (!response.ok) {
    throw responseError(response, text);
  }
  if (text.length === 0) {
    return text as T;
  }
  try {
    return JSON.parse(text) as T;
  } catch (error) {
    console.warn('jupyter-gpu-kernels: response is not JSON', requestUrl);
    return text as T;
  }
}

/** A path segment of an endpoint (a host, environment or kernel name), URL-encoded. */
export function enc(part: string): string {
  return encodeURIComponent(part);
}

/**
 * `requestAPI` with `method` and, when there is one, `body` sent as JSON: the one
 * requester of the API classes, so every call's refusal carries the server's
 * JSON `message` (shown to the user by `errorMessage`, api.ts).
 */
export function requestJSON<T>(
  serverSettings: ServerConnection.ISettings,
  method: string,
  endPoint: string,
  body?: unknown
): Promise<T> {
  return requestAPI<T>(
    endPoint,
    body === undefined
      ? { method }
      : {
          method,
          body: JSON.stringify(body),
          headers: { 'Content-Type': 'application/json' }
        },
    serverSettings
  );
}

/** A failed reply's error text and the form field it names (validation errors do). */
export function parseErrorBody(text: string): {
  message: string;
  field?: string;
} {
  let data: unknown = text;
  try {
    data = text.length ? JSON.parse(text) : text;
  } catch (error) {
    // not JSON: plain text is the message; an HTML error page is none
  }
  if (data !== null && typeof data === 'object') {
    const { message, field } = data as { message?: unknown; field?: unknown };
    return {
      message: typeof message === 'string' ? message : '',
      ...(typeof field === 'string' ? { field } : {})
    };
  }
  const plain = String(data ?? '');
  return { message: /^\s*</.test(plain) ? '' : plain };
}

/** The error `requestAPI` throws for a non-2xx reply (with `field` when the server named one). */
export function responseError(
  response: Response,
  text: string
): ServerConnection.ResponseError & { field?: string } {
  const { message, field } = parseErrorBody(text);
  const error: ServerConnection.ResponseError & { field?: string } =
    // '' (not the default "Invalid response: …") when the server sent no message,
    // so errorMessage() can say what a bare 404 or 500 means
    new ServerConnection.ResponseError(response, message);
  if (field !== undefined) {
    error.field = field;
  }
  return error;
}
