import { ServerConnection } from '@jupyterlab/services';

import { errorMessage, errorStatus } from '../src/api';
import { parseErrorBody, responseError } from '../src/request';

/** Enough of a fetch Response for ResponseError. */
function reply(status: number): Response {
  return {
    status,
    ok: false,
    statusText: 'Error',
    url: 'http://x/'
  } as Response;
}

describe('request error parsing', () => {
  it('takes the message and field of a JSON error', () => {
    expect(
      parseErrorBody(
        '{"message": "invalid memory \\"lots\\"", "field": "memory"}'
      )
    ).toEqual({ message: 'invalid memory "lots"', field: 'memory' });
    expect(parseErrorBody('{"message": "no"}')).toEqual({ message: 'no' });
  });

  it('takes plain text as the message, and an HTML page as none', () => {
    expect(parseErrorBody('Docker said no')).toEqual({
      message: 'Docker said no'
    });
    expect(parseErrorBody('  <html><body>500</body></html>')).toEqual({
      message: ''
    });
    expect(parseErrorBody('')).toEqual({ message: '' });
    expect(parseErrorBody('{"reason": 1}')).toEqual({ message: '' });
  });

  it('makes a ResponseError with the status, message and field', () => {
    const error = responseError(
      reply(400),
      '{"message": "bad cpus", "field": "cpus"}'
    );
    expect(error).toBeInstanceOf(ServerConnection.ResponseError);
    expect(error.message).toBe('bad cpus');
    expect(error.field).toBe('cpus');
    expect(errorStatus(error)).toBe(400);
    expect(errorMessage(error)).toBe('bad cpus');
  });

  it('explains a 404 without a message (the server extension is not loaded)', () => {
    const error = responseError(reply(404), '<html>Not Found</html>');
    expect(errorMessage(error)).toContain('jupyter server extension list');
    expect(errorStatus(new Error('x'))).toBe(0);
    expect(errorMessage(new Error('plain'))).toBe('plain');
  });
});
