// The /v1 API on this origin, with the user's key as a bearer token. Errors arrive as
// { error: { code, message } } and are thrown as ApiError with that message.

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** onUnauthorized is called when the key is refused (401), before the error is thrown. */
export function createApi(key, { onUnauthorized } = {}) {
  async function request(method, path, body) {
    const headers = { accept: 'application/json', authorization: `Bearer ${key}` };
    if (body !== undefined) headers['content-type'] = 'application/json';
    let response;
    try {
      response = await fetch(`/v1${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), cache: 'no-store' });
    } catch {
      throw new ApiError(0, 'unreachable', 'The Nurture API cannot be reached. Is it running?');
    }
    const data = await response.json().catch(() => null);
    if (!response.ok) {
      const error = new ApiError(response.status, data?.error?.code ?? 'http_error', data?.error?.message ?? `the API answered ${response.status}`);
      if (response.status === 401) onUnauthorized?.(error);
      throw error;
    }
    return data;
  }

  const query = (params) => {
    const search = new URLSearchParams(Object.entries(params).filter(([, value]) => value !== undefined && value !== ''));
    const text = search.toString();
    return text ? `?${text}` : '';
  };
  const id = encodeURIComponent;

  return {
    campaigns: () => request('GET', '/campaigns'),
    campaign: (campaignId) => request('GET', `/campaigns/${id(campaignId)}`),
    stats: (campaignId) => request('GET', `/campaigns/${id(campaignId)}/stats`),
    simulate: (campaignId, options) => request('POST', `/campaigns/${id(campaignId)}/simulate`, options),
    launches: (campaignId) => request('GET', `/campaigns/${id(campaignId)}/launches`),
    launch: (campaignId, body) => request('POST', `/campaigns/${id(campaignId)}/launches`, body),
    cancelLaunch: (campaignId, launchId) => request('POST', `/campaigns/${id(campaignId)}/launches/${id(launchId)}/cancel`),
    delivery: () => request('GET', '/events/delivery'),
    searchLeads: (text, limit = 50) => request('GET', `/leads${query({ q: text, limit })}`),
    lead: (leadId) => request('GET', `/leads/${id(leadId)}`),
    timeline: (leadId, limit = 100) => request('GET', `/leads/${id(leadId)}/timeline${query({ limit })}`),
    enrolment: (workflowId) => request('GET', `/enrolments/${id(workflowId)}`),
    handoffs: (status) => request('GET', `/handoffs${query({ status, limit: 200 })}`),
    salesPools: () => request('GET', '/sales/pools'),
    savePool: (name, body) => request('PUT', `/sales/pools/${id(name)}`, body),
    salesReps: (pool) => request('GET', `/sales/reps${query({ pool })}`),
    addRep: (body) => request('POST', '/sales/reps', body),
    changeRep: (rep, body) => request('PATCH', `/sales/reps/${id(rep)}`, body),
    repAway: (rep, body) => request('POST', `/sales/reps/${id(rep)}/absences`, body),
    repBack: (rep) => request('POST', `/sales/reps/${id(rep)}/back`),
    repLink: (rep) => request('POST', `/sales/reps/${id(rep)}/link`),
    salesDesk: () => request('GET', '/sales/desk'),
  };
}
