-- Argo CD resource action "pause" for ModelDeployment: hold the rollout where it is (phase
-- Paused, Argo CD health Suspended). modelship.dev/paused is a level, not a request: it holds
-- while the annotation says "true". Traffic and pods stay as they are.
if obj.metadata.annotations == nil then
  obj.metadata.annotations = {}
end
obj.metadata.annotations["modelship.dev/paused"] = "true"
return obj
