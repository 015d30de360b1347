// RFC 8058 says the one-click POST SHOULD be multipart/form-data (and MAY be form-urlencoded,
// which @fastify/formbody reads). The body is one tiny field, so a small reader for the
// multipart form suffices: it returns the simple text fields by name.
export function readMultipartFields(body: string, contentType: string): Record<string, string> | undefined {
  const boundary = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  const marker = boundary?.[1] ?? boundary?.[2];
  if (!marker) return undefined;
  const fields: Record<string, string> = {};
  for (const part of body.split(`--${marker}`)) {
    const split = part.indexOf('\r\n\r\n');
    if (split < 0) continue;
    const name = /content-disposition:\s*form-data;[^\r\n]*\bname="([^"]*)"/i.exec(part.slice(0, split))?.[1];
    if (name === undefined) continue;
    fields[name] = part.slice(split + 4).replace(/\r\n$/, '');
  }
  return fields;
}
