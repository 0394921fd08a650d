-- Argo CD resource action "promote-full" for ModelDeployment: skip the remaining steps and analysis; the canary takes all traffic once Ready.
-- The operator acts once per new value of modelship.dev/promote-full (a request id) and records the id it
-- handled in status, so the annotation can stay: a re-sync, a restart or a repeat of the same id
-- does nothing. Argo CD's sandbox has no string library; os.time() is the only clock.
-- Annotations are metadata, not spec: setting one does not make the Application OutOfSync.
local key = "modelship.dev/promote-full"
if obj.metadata.annotations == nil then
  obj.metadata.annotations = {}
end
local previous = obj.metadata.annotations[key]
local id = "argocd-" .. tostring(os.time())
-- Two clicks within one second would repeat the id, and a repeated id is ignored on purpose:
-- add a suffix so the second click is a new request.
local n = 1
while previous == id do
  n = n + 1
  id = "argocd-" .. tostring(os.time()) .. "-" .. tostring(n)
end
obj.metadata.annotations[key] = id
return obj
