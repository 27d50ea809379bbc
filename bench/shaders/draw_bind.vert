#version 450
// Game-like draw: positions from the vertex buffer bound for this draw (its
// own 4 corners, indexed), the object index from a push constant.
layout(push_constant) uniform Params { uint cell; } p;
layout(location = 0) in vec2 pos;
layout(location = 0) flat out uint v_id;

void main()
{
   gl_Position = vec4(pos, 0.0, 1.0);
   v_id = p.cell;
}
