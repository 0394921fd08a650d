-- Argo CD resource action "abort" for ModelDeployment: withdraw the canary; the stable revision keeps serving and the canary's revision is rejected until the spec changes.
-- The operator acts once per new value of modelship.dev/abort (a request id) and records the id it
-- handled in status, so the annotation can stay: a re-sync, a restart or a repeat of the same id
-- does nothing. Argo CD's sandbox has no string library; os.time() is the only clock, and `os`
-- is not a global there: it must be loaded with require (as Argo CD's own actions do).
-- Annotations are metadata, not spec: setting one does not make the Application OutOfSync.
local os = require("os")
local key = "modelship.dev/abort"
if obj.metadata.annotations == nil then
  obj.metadata.annotations = {}
end
local previous = obj.metadata.annotations[key]
local base = "argocd-" .. tostring(os.time())
-- Several clicks within one second: argocd-T, argocd-T-2, argocd-T-3 ... so every click is a new
-- request (the operator ignores an id it has handled). No string library: compare, don't parse.
local id = base
if previous == base then
  id = base .. "-2"
else
  for n = 2, 1000 do
    if previous == base .. "-" .. tostring(n) then
      id = base .. "-" .. tostring(n + 1)
      break
    end
  end
end
obj.metadata.annotations[key] = id
return obj
