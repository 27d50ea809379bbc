/*
 * Renderer routing when PearVisor is built without the Venus renderer:
 * 2D only. 3D commands get ERR_UNSPEC; GUEST blobs work (they need no
 * renderer), host blobs do not exist.
 */
#include "vgpu_internal.h"

bool vgpu_3d_available(const struct pv_vgpu *dev)
{
   return false;
}

uint32_t vgpu_3d_num_capsets(const struct pv_vgpu *dev)
{
   return 0;
}

uint32_t vgpu_3d_command(struct pv_vgpu *dev, struct vgpu_req *req)
{
   if (req->hdr.type == VIRTIO_GPU_CMD_GET_CAPSET_INFO || req->hdr.type == VIRTIO_GPU_CMD_GET_CAPSET)
      return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
   return VIRTIO_GPU_RESP_ERR_UNSPEC;
}

uint32_t vgpu_3d_create_blob(struct pv_vgpu *dev, struct vgpu_req *req, struct vgpu_res *res)
{
   return res->blob_mem == VIRTIO_GPU_BLOB_MEM_GUEST ? VIRTIO_GPU_RESP_OK_NODATA
                                                     : VIRTIO_GPU_RESP_ERR_UNSPEC;
}

void vgpu_3d_unref(struct pv_vgpu *dev, struct vgpu_res *res)
{
}

const uint8_t *vgpu_3d_blob_ptr(struct pv_vgpu *dev, struct vgpu_res *res, uint64_t *size)
{
   return NULL;
}

uint32_t vgpu_3d_map_blob(struct pv_vgpu *dev, struct vgpu_req *req)
{
   return VIRTIO_GPU_RESP_ERR_UNSPEC;
}

uint32_t vgpu_3d_unmap_blob(struct pv_vgpu *dev, struct vgpu_req *req)
{
   return VIRTIO_GPU_RESP_ERR_UNSPEC;
}

void vgpu_3d_reset(struct pv_vgpu *dev)
{
}

void vgpu_3d_fence(struct pv_vgpu *dev, struct vgpu_req *req)
{
}
